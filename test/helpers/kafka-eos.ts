/**
 * Helpers for the exactly-once tests: what a read_committed or read_uncommitted consumer sees in a topic, and how
 * far a consumer group has committed.
 */
import { kafka, unique } from './kafka.ts';

/**
 * Reads a topic from the beginning with a fresh group and counts ids, until `expected` distinct ids were seen and
 * nothing new arrived for `settleMs` (late duplicates would show up meanwhile).
 */
export async function readIds(topic: string, expected: number, idOf: (value: string) => string, o: { readUncommitted: boolean; timeoutMs?: number; settleMs?: number }): Promise<Map<string, number>> {
  const consumer = kafka.consumer({ groupId: unique('eos-verify'), maxWaitTimeInMs: 200, readUncommitted: o.readUncommitted });
  const counts = new Map<string, number>();
  let records = 0;
  let lastAt = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const id = idOf(m.value!.toString());
        counts.set(id, (counts.get(id) ?? 0) + 1);
        records++;
      }
      lastAt = Date.now();
    },
  });
  const deadline = Date.now() + (o.timeoutMs ?? 90_000);
  while (Date.now() < deadline && !(counts.size >= expected && Date.now() - lastAt > (o.settleMs ?? 2000))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  if (records === 0 && expected > 0) throw new Error(`nothing read from ${topic}`);
  return counts;
}

/** Sum over the topic's partitions of the group's committed offsets (records consumed and committed). */
export async function committedTotal(admin: ReturnType<typeof kafka.admin>, groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export const duplicatesOf = (counts: Map<string, number>) => [...counts.values()].reduce((n, c) => n + c - 1, 0);

/**
 * The hand-off between a `kafka` source with `offsetCommit: sink` and the `kafka` sinks with `exactlyOnce: true` of
 * the same agent process: the source stamps each event with its consumer group, its position and the source's
 * assignment epoch; the sink commits `offset + 1` inside its producer transaction.
 *
 * An epoch is live from a group join until the consumer may have lost its partitions (a rebalance starts, the
 * consumer crashes or stops). After that the consumer (or the partition's new owner) reads again from the committed
 * offsets, so events of a dead epoch still in a channel would be written twice: the sink drops them instead. Epochs
 * are unique per process, so events a durable channel kept across a restart are stale too.
 */
import { randomBytes } from 'node:crypto';

/** Headers the source adds in `offsetCommit: sink` mode (reserved: processors must not change them). */
export const GROUP_HEADER = 'kafka.groupId';
export const POSITION_HEADER = 'kafka.position';
export const EPOCH_HEADER = 'kafka.epoch';

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
}

interface Shared {
  liveEpochs: Set<string>;
  /** Per agent: its exactlyOnce sinks and whether their producers finished initializing. */
  sinks: Map<string, Map<string, Waiter>>;
  /** Per agent and group: the one sink that commits the group's offsets. */
  owners: Map<string, string>;
  process: string;
  counter: number;
}

// On globalThis, so a second copy of this module (src and dist loaded side by side) still shares one registry.
const KEY = Symbol.for('fintrans-agent.kafka.handoff');
const shared: Shared = ((globalThis as Record<symbol, unknown>)[KEY] as Shared | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = { liveEpochs: new Set(), sinks: new Map(), owners: new Map(), process: randomBytes(4).toString('hex'), counter: 0 } satisfies Shared);

/** Starts a new epoch (at every group join). */
export function beginEpoch(): string {
  const epoch = `${shared.process}.${++shared.counter}`;
  shared.liveEpochs.add(epoch);
  return epoch;
}

/** Ends an epoch: every event stamped with it becomes stale. */
export function endEpoch(epoch: string | undefined): void {
  if (epoch !== undefined) shared.liveEpochs.delete(epoch);
}

export function isLive(epoch: string | undefined): boolean {
  return epoch !== undefined && shared.liveEpochs.has(epoch);
}

/** An exactlyOnce sink announces itself at create; `ready` once its transactional producer is initialized. */
export function registerSink(agent: string, sink: string): { ready(): void; close(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const sinks = shared.sinks.get(agent) ?? new Map<string, Waiter>();
  shared.sinks.set(agent, sinks);
  sinks.set(sink, { promise, resolve });
  return {
    ready: resolve,
    close() {
      sinks.delete(sink);
      if (sinks.size === 0) shared.sinks.delete(agent);
      for (const [key, owner] of shared.owners) if (owner === sink && key.startsWith(`${agent}\u0000`)) shared.owners.delete(key);
    },
  };
}

/**
 * Waits until every exactlyOnce sink of the agent has initialized its producer: that init completes or aborts the
 * transaction a killed predecessor left open, so the group's committed offsets are final before the consumer
 * fetches them. Resolves with the number of such sinks (0: nobody would commit the offsets).
 */
export async function sinksReady(agent: string, signal: AbortSignal): Promise<number> {
  const sinks = [...(shared.sinks.get(agent)?.values() ?? [])];
  const aborted = new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
  await Promise.race([Promise.all(sinks.map((s) => s.promise)), aborted]);
  return sinks.length;
}

/** Claims the group's offsets for a sink; returns the other sink that already owns them, if any. */
export function claimGroup(agent: string, group: string, sink: string): string | undefined {
  const key = `${agent}\u0000${group}`;
  const owner = shared.owners.get(key);
  if (owner === undefined) shared.owners.set(key, sink);
  return owner === undefined || owner === sink ? undefined : owner;
}

export interface Position {
  topic: string;
  partition: number;
  offset: bigint;
}

export const formatPosition = (topic: string, partition: number, offset: string): string => `${topic}/${partition}/${offset}`;

/** Parses `topic/partition/offset` (topic names cannot contain a slash). */
export function parsePosition(value: string | undefined): Position | undefined {
  if (value === undefined) return undefined;
  const b = value.lastIndexOf('/');
  const a = value.lastIndexOf('/', b - 1);
  if (a <= 0) return undefined;
  const partition = value.slice(a + 1, b);
  const offset = value.slice(b + 1);
  if (!/^\d+$/.test(partition) || !/^\d+$/.test(offset)) return undefined;
  return { topic: value.slice(0, a), partition: Number(partition), offset: BigInt(offset) };
}

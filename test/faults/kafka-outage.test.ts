/**
 * Fault case 2: the Kafka broker is stopped for 60 s mid-stream, then restarted. A real agent process
 * (spooldir → file channel → kafka) gets a steady stream of spool files. While the broker is down the sink's
 * batches roll back, the channel fills to its capacity, the source pauses (nothing more accepted, its puts retried)
 * with the rest of the input left in the spool directory, and the process's memory stays within a bound set by
 * the channel's capacity. Once the broker is back, delivery resumes and every id is reconciled from the topic.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countIds, createTopic, kafka, unique } from '../helpers/kafka.ts';
import { cleanup, tempDir, waitFor, writeConfig } from '../helpers/pipeline.ts';
import { endpoints, ensureServers } from '../servers.ts';
import { freePort, killLeftovers, num, rssBytes, sleep, spawnAgent, type Status, status } from './helpers/agent-process.ts';
import { feedSpool } from './helpers/feed.ts';
import { startShared, stopShared } from './helpers/outage.ts';
import { expectReconciled, txIds } from './helpers/reconcile.ts';

const servers = await ensureServers(['kafka']);
const OUTAGE_MS = 60_000;
const FILES = 120;
const PER_FILE = 500;
const TOTAL = FILES * PER_FILE;
const CAPACITY = 10_000;
const SOURCE_BATCH = 500;
const SINK_BATCH = 1000;
/** Memory the process may gain over its warmed-up size: 4 KiB per event the channel can hold (events are ~90 B). */
const RSS_PER_EVENT = 4096;
const dir = tempDir('fta-faults-kafka-outage-');
afterAll(async () => {
  await killLeftovers();
  cleanup(dir);
});
const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;

interface Sample {
  at: number;
  rss: number;
  size: number;
  accepted: number;
  putFailures: number;
  drained: number;
}

describe.skipIf(!servers.ok)('kafka broker outage of 60 s (agent process, real broker)', () => {
  it('fills the channel, pauses the source with bounded memory, and delivers everything once the broker is back', async () => {
    const topic = unique('faults-outage');
    await createTopic(topic, 3);
    const port = await freePort();
    const conf = writeConfig(
      dir,
      `metrics: { port: ${port} }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: ${SOURCE_BATCH}, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], capacity: ${CAPACITY}, transactionCapacity: ${SINK_BATCH} }
    sinks:
      k: { type: kafka, channel: wal, bootstrapServers: ${JSON.stringify(endpoints.kafka.brokers)}, topic: ${topic}, batchSize: ${SINK_BATCH}, requestTimeoutMs: 5000 }
`,
    );
    const agent = spawnAgent(conf);
    const spool = join(dir, 'spool');
    const completed = () => readdirSync(spool).filter((f) => f.endsWith('.COMPLETED')).length;
    const sample = async (): Promise<Sample> => {
      const s: Status | undefined = await status(port);
      return {
        at: Date.now(), rss: rssBytes(agent.pid), size: num(s, 'CHANNEL.wal', 'ChannelSize'), accepted: num(s, 'SOURCE.spool', 'EventAcceptedCount'),
        putFailures: num(s, 'SOURCE.spool', 'ChannelWriteFail'), drained: num(s, 'SINK.k', 'EventDrainSuccessCount'),
      };
    };
    const admin = kafka.admin();
    await admin.connect();
    const inTopic = async () => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    let feed: ReturnType<typeof feedSpool> | undefined;
    const during: Sample[] = [];
    let before: Sample;
    let resumedMs = 0;
    try {
      await waitFor('the metrics endpoint', async () => (await sample()).drained >= 0, 60_000);
      feed = feedSpool(spool, FILES, PER_FILE, 100);
      await waitFor('5000 delivered', async () => (await sample()).drained >= 5000, 60_000);
      before = await sample();

      await stopShared('kafka', Number(endpoints.kafka.brokers[0]!.split(':')[1]));
      try {
        const downAt = Date.now();
        while (Date.now() - downAt < OUTAGE_MS) {
          during.push(await sample());
          await sleep(500);
        }
      } finally {
        await startShared('kafka'); // a shared server: back up whatever happened
      }
      const upAt = Date.now();
      const drainedAtRestart = (await sample()).drained;
      await waitFor('delivery resumed', async () => (await sample()).drained > drainedAtRestart, 120_000);
      resumedMs = Date.now() - upAt;
      await feed.done;
      await waitFor('every spool file read, the channel empty, the topic complete', async () => completed() === FILES && (await sample()).size === 0 && (await inTopic()) >= TOTAL, 180_000);
    } finally {
      feed?.stop();
      await admin.disconnect().catch(() => undefined);
      agent.child.kill('SIGTERM');
    }
    const code = await agent.exited;
    if (code !== 0) console.log(agent.logs().slice(-5000));
    expect(code).toBe(0);

    // The channel filled: a put is refused once the next source batch no longer fits.
    const maxSize = Math.max(...during.map((s) => s.size));
    expect(maxSize).toBeGreaterThan(CAPACITY - SOURCE_BATCH);
    expect(maxSize).toBeLessThanOrEqual(CAPACITY);
    // Nothing reached the broker after the batch in flight when it stopped.
    expect(during.at(-1)!.drained - during[0]!.drained).toBeLessThanOrEqual(SINK_BATCH);
    // The source paused: over the second half of the outage it accepted nothing while its puts kept failing, and
    // input was waiting in the spool directory.
    const half = during.find((s) => s.at >= during[0]!.at + OUTAGE_MS / 2)!;
    expect(during.at(-1)!.accepted).toBe(half.accepted);
    expect(during.at(-1)!.putFailures).toBeGreaterThan(half.putFailures);
    expect(half.accepted).toBeLessThan(TOTAL);
    // Memory stayed bounded by what the channel can hold, however long the outage.
    const maxRss = Math.max(...during.map((s) => s.rss));
    const bound = before!.rss + CAPACITY * RSS_PER_EVENT;
    expect(maxRss).toBeLessThan(bound);

    const counts = await countIds(topic, TOTAL, txId);
    expectReconciled(
      'kafka broker down 60 s',
      txIds(TOTAL),
      counts,
      2 * SINK_BATCH,
      `channel max ${maxSize}/${CAPACITY}, source paused at ${half.accepted} accepted with ${during.at(-1)!.putFailures - during[0]!.putFailures} put retries, ` +
        `RSS ${(before!.rss / 2 ** 20).toFixed(0)} MiB before, max ${(maxRss / 2 ** 20).toFixed(0)} MiB during (bound ${(bound / 2 ** 20).toFixed(0)} MiB), delivery resumed ${resumedMs} ms after the broker was up`,
    );
  });
});

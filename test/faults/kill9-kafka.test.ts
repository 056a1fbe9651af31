/**
 * Fault case 1: kill -9 of the agent ten times during spooldir → file channel → Kafka, restarted each time. Most
 * kills land mid-delivery (at rising shares of the input already in the topic); every third lands during startup,
 * right after the channel's recovery while the producer connects. An independent consumer then reads the topic
 * from the beginning and every id is reconciled: none lost, and duplicates within the batches in flight at each
 * kill (the source's batch put but not yet acknowledged, the sink's batch sent but not yet committed).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countIds, createTopic, kafka, unique } from '../helpers/kafka.ts';
import { cleanup, tempDir, waitFor, writeConfig, writeSpoolFile } from '../helpers/pipeline.ts';
import { endpoints, ensureServers } from '../servers.ts';
import { freePort, kill9, killLeftovers, num, spawnAgent, status } from './helpers/agent-process.ts';
import { expectReconciled, txIds } from './helpers/reconcile.ts';

const servers = await ensureServers(['kafka']);
const FILES = 30;
const PER_FILE = 2000;
const TOTAL = FILES * PER_FILE;
const SOURCE_BATCH = 500;
const SINK_BATCH = 1000;
const KILLS = 10;
const dir = tempDir('fta-faults-kill9-');
afterAll(async () => {
  await killLeftovers();
  cleanup(dir);
});
const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;

describe.skipIf(!servers.ok)('kill -9 during spooldir → file channel → kafka (agent process, real broker)', () => {
  it(`loses nothing across ${KILLS} SIGKILLs and restarts; duplicates within the batches in flight`, async () => {
    const topic = unique('faults-kill9');
    await createTopic(topic, 3);
    for (let f = 0; f < FILES; f++) writeSpoolFile(join(dir, 'spool'), `tx-${String(f).padStart(2, '0')}.jsonl`, f * PER_FILE, PER_FILE);
    const port = await freePort();
    const conf = writeConfig(
      dir,
      `metrics: { port: ${port} }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: ${SOURCE_BATCH}, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], capacity: 50000, transactionCapacity: ${SINK_BATCH}, maxFileSize: 4194304 }
    sinks:
      k: { type: kafka, channel: wal, bootstrapServers: ${JSON.stringify(endpoints.kafka.brokers)}, topic: ${topic}, key: merchantId, batchSize: ${SINK_BATCH} }
`,
    );
    const admin = kafka.admin();
    await admin.connect();
    const inTopic = async () => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    const kills: string[] = [];
    const completed = () => readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.COMPLETED')).length;
    try {
      for (let k = 0; k < KILLS; k++) {
        const before = await inTopic();
        const agent = spawnAgent(conf);
        if (k % 3 === 2) {
          // During startup: as soon as the channel has recovered, while the producer connects.
          await waitFor('the channel recovered', () => /File channel recovered|Agent started/.test(agent.logs()), 60_000);
        } else {
          // At a rising share of the input, and always after this run itself delivered something.
          const share = (k + 1) / (KILLS + 4);
          await waitFor(`${Math.round(share * 100)}% of the input in the topic`, async () => (await inTopic()) >= Math.max(share * TOTAL, before + 2000), 120_000).catch((error: Error) => {
            throw new Error(`${error.message} (run ${k + 1}; its log ends with:\n${agent.logs().slice(-3000)})`);
          });
        }
        // Mid-stream: input left in the spool directory or in the channel. Unknown until the channel has recovered
        // (the endpoint answers before that, with size 0): the durable channel then holds what the last run left.
        const s = await status(port);
        const recovered = s?.['CHANNEL.wal']?.State === 'running';
        const left = FILES - completed() + num(s, 'CHANNEL.wal', 'ChannelSize');
        expect(await kill9(agent)).toBe('SIGKILL');
        kills.push(`${await inTopic()}`);
        expect(!recovered || left > 0, `kill ${k + 1} was mid-stream`).toBe(true);
      }
      const last = spawnAgent(conf);
      await waitFor('every spool file read and the channel empty', async () => completed() === FILES && num(await status(port), 'CHANNEL.wal', 'ChannelSize') === 0 && (await inTopic()) >= TOTAL, 180_000);
      last.child.kill('SIGTERM');
      const code = await last.exited;
      if (code !== 0) console.log(last.logs());
      expect(code).toBe(0);
    } finally {
      await admin.disconnect();
    }
    const counts = await countIds(topic, TOTAL, txId);
    const bound = KILLS * (SOURCE_BATCH + SINK_BATCH);
    expectReconciled(`kill -9 x${KILLS} (spooldir → file → kafka)`, txIds(TOTAL), counts, bound, `records in the topic at each kill: ${kills.join(', ')}`);
  });
});

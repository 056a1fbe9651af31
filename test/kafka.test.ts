/**
 * The Kafka source and sink against the real broker started by the server harness.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { countIds, createTopic, produce, unique } from './helpers/kafka.ts';
import { cleanup, readLines, stat, tally, tempDir, waitFor, writeConfig, writeSpoolFile } from './helpers/pipeline.ts';
import { endpoints, ensureServers, startServer, stopServer } from './servers.ts';

const servers = await ensureServers(['kafka']);
const BROKERS = JSON.stringify(endpoints.kafka.brokers);
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const dir = () => {
  const d = tempDir('fta-kafka-');
  dirs.push(d);
  return d;
};
const start = (conf: string, name?: string) => startAgent({ conf, name, log: silentLogger(), metricsPort: false });
const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;

describe.skipIf(!servers.ok)('kafka (real broker)', () => {
  it('spooldir → file channel → kafka sink delivers exactly the input, keyed across 5 partitions', async () => {
    const d = dir();
    const topic = unique('spool-kafka');
    for (let f = 0; f < 4; f++) writeSpoolFile(join(d, 'spool'), `tx-${f}.jsonl`, f * 5000, 5000);
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [wal] } }
    channels: { wal: { type: file, transactionCapacity: 1000 } }
    sinks: { k: { type: kafka, channel: wal, bootstrapServers: ${BROKERS}, topic: ${topic}, key: merchantId, batchSize: 1000, compression: lz4, createTopics: { partitions: 5 } } }
`,
      ),
    );
    await waitFor('20k drained', () => stat(agent, 'k', 'events_drained_total') >= 20_000, 90_000);
    await agent.stop();
    const counts = await countIds(topic, 20_000, txId);
    expect(counts.size).toBe(20_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('kafka source → file_roll delivers every record once and dead-letters records that are not JSON', async () => {
    const d = dir();
    const topic = unique('kafka-file');
    await createTopic(topic, 3);
    const values = Array.from({ length: 15_000 }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, amount: i }));
    values.splice(5000, 0, 'not json at all');
    await produce(topic, values, (i) => `k${i % 7}`);
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { k: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${topic}], groupId: ${unique('g')}, startFrom: earliest, batchSize: 1000, channels: [wal] } }
    channels: { wal: { type: file, transactionCapacity: 1000 }, dlq: { type: memory } }
    sinks:
      out: { type: file_roll, channel: wal, directory: ./out, rollInterval: 0, batchSize: 1000 }
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
`,
      ),
    );
    await waitFor('15k delivered', () => stat(agent, 'out', 'events_drained_total') >= 15_000 && stat(agent, 'dead', 'events_drained_total') >= 1, 90_000);
    await agent.stop();
    const counts = tally(readLines(join(d, 'out')).map(txId));
    expect(counts.size).toBe(15_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const dead = readLines(join(d, 'dead')).map((l) => JSON.parse(l) as { headers: Record<string, string> });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers).toMatchObject({ 'dl.reason': 'malformed-json', topic, 'dl.component': 'k' });
    expect(dead[0]!.headers.partition).toMatch(/^\d$/);
    expect(dead[0]!.headers.offset).toMatch(/^\d+$/);
  });

  it('two agents in one consumer group split a 5-partition topic and together deliver every record', async () => {
    const d = dir();
    const topic = unique('financial_transactions');
    await createTopic(topic, 5);
    const group = unique('group');
    const conf = writeConfig(
      d,
      `agents:
  one:
    sources: { k: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${topic}], groupId: ${group}, startFrom: earliest, channels: [c] } }
    channels: { c: { type: memory } }
    sinks: { out: { type: file_roll, channel: c, directory: ./out-one, rollInterval: 0 } }
  two:
    sources: { k: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${topic}], groupId: ${group}, startFrom: earliest, channels: [c] } }
    channels: { c: { type: memory } }
    sinks: { out: { type: file_roll, channel: c, directory: ./out-two, rollInterval: 0 } }
`,
    );
    const agents: RunningAgent[] = [await start(conf, 'one'), await start(conf, 'two')];
    // Both members have joined before the data arrives, so the partitions are split between them.
    await new Promise((r) => setTimeout(r, 4000));
    await produce(topic, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, merchantId: `m${i % 97}` })), (i) => `m${i % 97}`);
    await waitFor('20k across both', () => agents.reduce((n, a) => n + stat(a, 'out', 'events_drained_total'), 0) >= 20_000, 90_000);
    for (const a of agents) await a.stop();
    const one = readLines(join(d, 'out-one')).map(txId);
    const two = readLines(join(d, 'out-two')).map(txId);
    expect(one.length).toBeGreaterThan(0);
    expect(two.length).toBeGreaterThan(0);
    const counts = tally([...one, ...two]);
    expect(counts.size).toBe(20_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('loses nothing when the broker is stopped and restarted mid-stream', async () => {
    const d = dir();
    const topic = unique('restart');
    await createTopic(topic, 3);
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { g: { type: generator, count: 30000, rate: 5000, seed: 9, batchSize: 500, channels: [wal] } }
    channels: { wal: { type: file, transactionCapacity: 1000 } }
    sinks: { k: { type: kafka, channel: wal, bootstrapServers: ${BROKERS}, topic: ${topic}, batchSize: 1000, requestTimeoutMs: 5000 } }
`,
      ),
    );
    await waitFor('some delivered', () => stat(agent, 'k', 'events_drained_total') >= 5000, 60_000);
    await stopServer('kafka');
    await new Promise((r) => setTimeout(r, 3000));
    const during = stat(agent, 'k', 'events_drained_total');
    expect(during).toBeLessThan(30_000);
    await startServer('kafka');
    await waitFor('all delivered after the restart', () => stat(agent, 'k', 'events_drained_total') >= 30_000, 120_000);
    expect(stat(agent, 'k', 'write_failures_total')).toBeGreaterThan(0);
    await agent.stop();
    const counts = await countIds(topic, 30_000, txId);
    expect(counts.size).toBe(30_000);
  });

  it('round-trips every compression codec through the broker', async () => {
    const d = dir();
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    const topics = Object.fromEntries(codecs.map((c) => [c, unique(`codec-${c}`)]));
    const sinks = codecs.map((c) => `      k_${c}: { type: kafka, channel: ${c}, bootstrapServers: ${BROKERS}, topic: ${topics[c]}, compression: ${c}, createTopics: { partitions: 1 } }`).join('\n');
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { g: { type: generator, count: 500, seed: 3, batchSize: 100, channels: [${codecs.join(', ')}] } }
    channels: { ${codecs.map((c) => `${c}: { type: memory }`).join(', ')} }
    sinks:
${sinks}
`,
      ),
    );
    await waitFor('every codec delivered', () => codecs.every((c) => stat(agent, `k_${c}`, "events_drained_total") >= 500), 60_000);
    await agent.stop();
    for (const c of codecs) expect((await countIds(topics[c]!, 500, txId)).size, c).toBe(500);
  });

  it('runs the shipped seed 003 pipelines: spooldir-kafka.yaml then kafka-file.yaml', async () => {
    const d = dir();
    const topic = unique('finance');
    const env = { ...process.env, SPOOL_DIR: join(d, 'spool'), KAFKA_TOPIC: topic, DATA_DIR: join(d, 'data'), OUT_DIR: join(d, 'out'), KAFKA_GROUP: unique('files') };
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ transaction_id: `T${100000 + i}`, account_id: `A${i}`, amount: i + 0.5, currency: 'USD' }));
    const { mkdirSync, writeFileSync, renameSync } = await import('node:fs');
    mkdirSync(join(d, 'spool'), { recursive: true });
    writeFileSync(join(d, 'part'), `${lines.join('\n')}\n`);
    renameSync(join(d, 'part'), join(d, 'spool', 'finance_transactions_1.json'));
    const first = await startAgent({ conf: 'conf/spooldir-kafka.yaml', env, log: silentLogger(), metricsPort: false });
    const second = await startAgent({ conf: 'conf/kafka-file.yaml', env, log: silentLogger(), metricsPort: false });
    await waitFor('3000 through both agents', () => readLines(join(d, 'out'), true).length >= 3000, 90_000);
    await first.stop();
    await second.stop();
    const counts = tally(readLines(join(d, 'out')).map((l) => JSON.parse(l).transaction_id));
    expect(counts.size).toBe(3000);
  });
});

// The shared compliance suites, run against the real broker.
if (servers.ok) {
  const { sinkCompliance, sourceCompliance } = await import('../agent/testing/compliance.ts');
  const { testContext } = await import('../agent/testing/context.ts');
  const kafkaSink = (await import('../plugins/sinks/kafka.ts')).default;
  const kafkaSource = (await import('../plugins/sources/kafka.ts')).default;
  const connection = { bootstrapServers: [...endpoints.kafka.brokers], clientId: 'compliance', connectionTimeoutMs: 3000, requestTimeoutMs: 30000 };

  const sinkTopic = unique('compliance-sink');
  sinkCompliance(
    'kafka',
    async () =>
      kafkaSink.create(
        { ...connection, topic: sinkTopic, batchSize: 100, acks: 'all', compression: 'none', idempotent: true, headers: [], format: 'json', maxMessageBytes: 1_000_000, createTopics: { partitions: 2, replicationFactor: 1 }, producer: {} },
        testContext('sink', 'kafka'),
      ),
    async () => [...(await countIds(sinkTopic, 2000, (v) => v)).keys()],
  );

  let sourceTopic = '';
  const group = unique('compliance-group');
  sourceCompliance(
    'kafka',
    async () =>
      kafkaSource.create(
        { ...connection, topics: [sourceTopic], groupId: group, batchSize: 100, batchDurationMillis: 200, startFrom: 'earliest', format: 'json', setTopicHeader: true, topicHeader: 'topic', partitionHeader: 'partition', offsetHeader: 'offset', keyHeader: 'key', timestampHeader: 'timestamp', consumer: {} },
        testContext('source', 'kafka'),
      ),
    async (n) => {
      sourceTopic = unique('compliance-source');
      await createTopic(sourceTopic, 3);
      await produce(sourceTopic, Array.from({ length: n }, (_, i) => JSON.stringify({ transactionId: `tx-${i}` })));
    },
    (e) => (e.data as { transactionId: string }).transactionId,
    { resumable: true },
  );
}

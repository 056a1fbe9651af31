/**
 * Exactly once from Kafka to Kafka: a kafka source (offsetCommit: sink) → memory (or file) channel → kafka sink
 * (exactlyOnce) agent, run as a real process and killed with SIGKILL four times mid-stream; a read_committed consumer
 * of the output topic must see every id exactly once. In process: two agents of one group rebalance twice while
 * their channels hold events (stale ones must be dropped, not written); and a record the broker refuses inside a
 * multi-partition transaction aborts it (a read_uncommitted consumer sees the aborted copies, a read_committed one
 * does not) while events that did not come from Kafka are dead-lettered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { committedTotal, duplicatesOf, readIds } from './helpers/kafka-eos.ts';
import { createTopic, kafka, produce, unique } from './helpers/kafka.ts';
import { cleanup, readLines, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka']);
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'fintrans-agent.js');
const BROKERS = JSON.stringify(endpoints.kafka.brokers);
const TOTAL = 60_000;
const PARTITIONS = 4;
const dir = tempDir('fta-eos-');
const admin = kafka.admin();
afterAll(async () => {
  await admin.disconnect();
  cleanup(dir);
});
const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Sum of a metric's samples on an agent process's /metrics endpoint. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function startProcess(conf: string): { child: ChildProcess; exited: Promise<number | string | null>; logs: () => string } {
  const child = spawn(process.execPath, [BIN, '--conf', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const keep = (d: Buffer) => (logs = (logs + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, exited: new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal))), logs: () => logs };
}

describe.skipIf(!servers.ok)('exactly once, Kafka to Kafka (real broker)', () => {
  beforeAll(async () => {
    // The agent process runs the compiled code: a stale dist/ would test the previous version.
    const built = readFileSync(join(ROOT, 'dist', 'plugins', 'sinks', 'kafka', 'transactional.js'), 'utf8');
    expect(built, 'dist/ is stale: run `npm run build` first').toContain('eos_transactions_total');
    await admin.connect();
  });

  // The memory channel loses its contents at each kill; the file channel keeps them, and they are stale after the
  // restart (the consumer reads them again), so the sink must drop them rather than write them twice.
  it.each([
    ['memory', '{ type: memory, capacity: 5000, transactionCapacity: 1000 }'],
    ['file', '{ type: file, checkpointDir: ./file/cp, dataDirs: [./file/data], capacity: 5000, transactionCapacity: 1000 }'],
  ])('SIGKILLed 4 times mid-stream, the agent (%s channel) still gives a read_committed consumer every id exactly once', { timeout: 600_000 }, async (kind, channel) => {
    const d = join(dir, kind);
    const input = unique('eos-in');
    const output = unique('eos-out');
    const group = unique('eos-group');
    await createTopic(input, PARTITIONS);
    await createTopic(output, PARTITIONS);
    await produce(input, Array.from({ length: TOTAL }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, merchantId: `m${i % 97}`, amount: i % 1000 })), (i) => `m${i % 97}`);
    const port = await freePort();
    mkdirSync(d, { recursive: true });
    const conf = writeConfig(
      d,
      `metrics: { port: ${port} }
agents:
  eos:
    sources:
      in:
        type: kafka
        bootstrapServers: ${BROKERS}
        topics: [${input}]
        groupId: ${group}
        startFrom: earliest
        batchSize: 500
        batchDurationMillis: 200
        offsetCommit: sink
        consumer: { sessionTimeout: 6000, rebalanceTimeout: 10000, heartbeatInterval: 1000, maxBytesPerPartition: 65536 }
        channels: [ch]
    channels:
      ch: ${channel}
    sinks:
      out: { type: kafka, channel: ch, bootstrapServers: ${BROKERS}, topic: ${output}, key: merchantId, batchSize: 1000, exactlyOnce: true, transactionalId: ${unique('eos-tx')} }
`,
      'eos.yaml',
    );
    const progress = () => committedTotal(admin, group, input);
    const kills = [0.1, 0.3, 0.5, 0.7];
    for (const at of kills) {
      const run = startProcess(conf);
      try {
        await waitFor(`offsets committed past ${at * 100}%`, async () => (await progress()) >= at * TOTAL, 120_000);
      } catch (error) {
        console.log(run.logs());
        throw error;
      }
      // Not right after a commit (which the progress poll just saw), but anywhere in the next transactions.
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      expect(await progress()).toBeLessThan(TOTAL); // the kill really was mid-stream
    }
    const last = startProcess(conf);
    await waitFor('every offset committed', async () => (await progress()) >= TOTAL, 180_000);
    const stale = await metric(port, 'fintrans_sink_eos_stale_dropped_total');
    last.child.kill('SIGTERM');
    const code = await last.exited;
    if (code !== 0) console.log(last.logs());
    expect(code).toBe(0);

    const committed = await readIds(output, TOTAL, txId, { readUncommitted: false });
    const missing = Array.from({ length: TOTAL }, (_, i) => `tx-${i}`).filter((id) => !committed.has(id));
    expect(missing).toEqual([]);
    expect(committed.size).toBe(TOTAL);
    expect(duplicatesOf(committed)).toBe(0);
    // The same topic read without isolation: records of the transactions the kills left open are there too.
    const uncommitted = await readIds(output, TOTAL, txId, { readUncommitted: true });
    console.log(`exactly once, ${kind} channel, kill -9 x${kills.length}: ${TOTAL} ids, read_committed duplicates 0, read_uncommitted duplicates ${duplicatesOf(uncommitted)}, stale events dropped after the last restart ${stale}`);
    expect(uncommitted.size).toBe(TOTAL);
    if (kind === 'file') expect(stale).toBeGreaterThan(0); // the killed run's channel contents were there, and dropped
  });

  it('two agents in one group rebalance twice mid-stream (one joins, then one leaves): every id exactly once, stale channel events dropped', { timeout: 240_000 }, async () => {
    const d = tempDir('fta-eos-rebalance-');
    const input = unique('eos-rb-in');
    const output = unique('eos-rb-out');
    const group = unique('eos-rb-group');
    const n = 40_000;
    await createTopic(input, PARTITIONS);
    await createTopic(output, PARTITIONS);
    await produce(input, Array.from({ length: n }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, merchantId: `m${i % 97}` })), (i) => `m${i % 97}`);
    const agent = (name: string) => `  ${name}:
    sources:
      in: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${input}], groupId: ${group}, startFrom: earliest, batchSize: 250, batchDurationMillis: 200, offsetCommit: sink, consumer: { sessionTimeout: 6000, heartbeatInterval: 500, maxBytesPerPartition: 32768 }, channels: [mem] }
    channels: { mem: { type: memory, capacity: 4000, transactionCapacity: 500 } }
    sinks: { out: { type: kafka, channel: mem, bootstrapServers: ${BROKERS}, topic: ${output}, key: merchantId, batchSize: 500, exactlyOnce: true, transactionalId: ${unique(`eos-tx-${name}`)} } }
`;
    const conf = writeConfig(d, `agents:\n${agent('one')}${agent('two')}`);
    const log = () => (process.env.EOS_DEBUG ? createLogger({ level: 'info', destination: 2 }) : silentLogger());
    const progress = () => committedTotal(admin, group, input);
    const one = await startAgent({ conf, name: 'one', log: log(), metricsPort: false });
    let two: Awaited<ReturnType<typeof startAgent>> | undefined;
    let stale = 0;
    try {
      await waitFor('a quarter committed by agent one', async () => (await progress()) >= n / 4, 90_000);
      two = await startAgent({ conf, name: 'two', log: log(), metricsPort: false });
      await waitFor('agent two delivering', () => stat(two!, 'out', 'eos_transactions_total') > 0, 90_000);
      expect(await progress()).toBeLessThan(n);
      await one.stop(); // its partitions move to agent two; what its channel still held is stale
      stale = stat(one, 'out', 'eos_stale_dropped_total');
      await waitFor('every offset committed', async () => (await progress()) >= n, 120_000);
    } finally {
      await one.stop();
      await two?.stop();
      cleanup(d);
    }
    const committed = await readIds(output, n, txId, { readUncommitted: false });
    console.log(`exactly once, two rebalances: ${n} ids, ${duplicatesOf(committed)} duplicates, ${stale} stale events dropped by agent one`);
    expect(committed.size).toBe(n);
    expect(duplicatesOf(committed)).toBe(0);
    expect(stale).toBeGreaterThan(0);
  });

  it('a record the broker refuses aborts its transaction (read_uncommitted sees the aborted copies, read_committed not); non-Kafka events are dead-lettered', { timeout: 180_000 }, async () => {
    const d = tempDir('fta-eos-poison-');
    const input = unique('eos-poison-in');
    const output = unique('eos-poison-out');
    const group = unique('eos-poison-group');
    const n = 3000;
    // The input topic takes the 1.5 MB record; the output topic keeps the broker's 1 MB limit and refuses it.
    const a = kafka.admin();
    await a.connect();
    await a.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '4000000' }] }, { topic: output, numPartitions: 3 }] });
    await a.disconnect();
    const values = Array.from({ length: n }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, merchantId: `m${i % 31}` }));
    values.splice(1500, 0, JSON.stringify({ transactionId: 'poison', merchantId: 'm0', pad: 'x'.repeat(1_500_000) }));
    await produce(input, values, (i) => `m${i % 31}`);
    const agent = await startAgent({
      conf: writeConfig(
        d,
        `agents:
  a:
    sources:
      in: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${input}], groupId: ${group}, startFrom: earliest, batchSize: 1000, offsetCommit: sink, channels: [mem] }
      gen: { type: generator, count: 5, seed: 1, channels: [mem] }
    channels: { mem: { type: memory }, dlq: { type: memory } }
    sinks:
      out: { type: kafka, channel: mem, bootstrapServers: ${BROKERS}, topic: ${output}, key: merchantId, batchSize: 1000, exactlyOnce: true, maxMessageBytes: 3000000, transactionalId: ${unique('eos-tx')} }
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
`,
      ),
      log: process.env.EOS_DEBUG ? createLogger({ level: 'info', destination: 2 }) : silentLogger(),
      metricsPort: false,
    });
    try {
      await waitFor('all offsets committed', async () => (await committedTotal(admin, group, input)) >= n + 1, 90_000);
      await waitFor('6 dead letters', () => stat(agent, 'dead', 'events_drained_total') >= 6, 30_000);
      expect(stat(agent, 'out', 'eos_aborts_total')).toBeGreaterThan(0);
    } finally {
      await agent.stop();
    }
    const dead = readLines(join(d, 'dead')).map((l) => JSON.parse(l) as { headers: Record<string, string>; body: unknown });
    const reasons = dead.map((e) => e.headers['dl.reason']).sort();
    expect(reasons).toEqual(['no-source-offset', 'no-source-offset', 'no-source-offset', 'no-source-offset', 'no-source-offset', 'rejected-by-broker']);
    const committed = await readIds(output, n, txId, { readUncommitted: false });
    expect(committed.size).toBe(n);
    expect(duplicatesOf(committed)).toBe(0);
    expect(committed.has('poison')).toBe(false);
    const uncommitted = await readIds(output, n, txId, { readUncommitted: true });
    // The first attempt wrote the batch's records of the other partitions before the poison's partition failed.
    expect(duplicatesOf(uncommitted)).toBeGreaterThan(0);
    cleanup(d);
  });
});

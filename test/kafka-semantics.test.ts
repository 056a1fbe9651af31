/**
 * What the Kafka sink and source promise beyond "records get through", each against the harness's real broker:
 * dead letters for records the broker refuses for good, backpressure from a blocked sink, at-least-once across a
 * consumer-group rebalance, and keys, headers, formats and topic creation as a consumer of the topic sees them.
 * Test plugins: `manual` (the test emits through it) and `probe` (a sink that keeps what it got and can be blocked).
 */
import { join } from 'node:path';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePlugin, Event, type SourceRunContext } from '../agent/index.ts';
import type { RunningAgent } from '../agent/run.ts';
import { componentStats, TestAgents } from '../agent/testing/agents.ts';
import { countIds, createTopic, kafka, unique } from './helpers/kafka.ts';
import { cleanup, readLines, tally, tempDir, waitFor } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka']);
const BROKERS = JSON.stringify(endpoints.kafka.brokers);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;
const idOf = (e: Event) => (e.data as { transactionId: string }).transactionId;

interface Probe { events: Event[]; gate: Promise<void>; open: () => void }
const probes = new Map<string, Probe>();
function probe(name: string): Probe {
  let p = probes.get(name);
  if (!p) {
    p = { events: [], gate: Promise.resolve(), open: () => {} };
    probes.set(name, p);
  }
  return p;
}
/** Makes the probe sink `name` hold every write until `open()` is called. */
function block(name: string): Probe {
  const p = probe(name);
  p.gate = new Promise<void>((r) => (p.open = r));
  return p;
}

const probeSink = definePlugin({
  kind: 'sink',
  type: 'probe',
  description: 'Test sink: keeps every event it is given, after its gate opens.',
  schema: { type: 'object', additionalProperties: false, properties: { batchSize: { type: 'integer', default: 100, description: 'Events per take.' } } },
  create: (_config, ctx) => {
    const p = probe(ctx.name);
    return { write: async (events: readonly Event[]) => void (await p.gate, p.events.push(...events)) };
  },
});
const emitters = new Map<string, SourceRunContext>();
const manualSource = definePlugin({
  kind: 'source',
  type: 'manual',
  description: 'Test source: the test emits through it.',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_config, ctx) => ({
    run: (run: SourceRunContext) => ((emitters.set(ctx.name, run), new Promise<void>((r) => run.signal.addEventListener('abort', () => r(), { once: true })))),
  }),
});

const agents = new TestAgents();
const start = (yaml: string) => agents.start(yaml, [probeSink, manualSource]);
const stat = (a: RunningAgent, name: string, metric: string, kind?: 'source' | 'sink' | 'channel') => componentStats(a, name, kind).get(metric);
const dirs: string[] = [];
beforeEach(() => (probes.clear(), emitters.clear()));
afterEach(() => agents.stopAll());
afterAll(() => dirs.forEach(cleanup));

async function emit(source: string, events: Event[], batch = 50): Promise<void> {
  await waitFor(`source ${source} running`, () => emitters.has(source));
  for (let i = 0; i < events.length; i += batch) await emitters.get(source)!.emit(events.slice(i, i + batch));
}

async function admin<T>(f: (a: ReturnType<typeof kafka.admin>) => Promise<T>): Promise<T> {
  const a = kafka.admin();
  await a.connect();
  try {
    return await f(a);
  } finally {
    await a.disconnect();
  }
}

/** Every record of `topic`, read by a consumer of its own group, once `expected` have arrived (plus a settle for late duplicates). */
async function readAll(topic: string, expected: number): Promise<(KafkaMessage & { partition: number })[]> {
  const consumer = kafka.consumer({ groupId: unique('sem-verify'), maxWaitTimeInMs: 200 });
  const got: (KafkaMessage & { partition: number })[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => void got.push({ ...message, partition }) });
  try {
    await waitFor(`${expected} records in ${topic}`, () => got.length >= expected, 60_000);
    await sleep(1000);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Records not yet committed by `group` on `topic` (a partition without a commit counts from 0). */
const lag = (group: string, topic: string) =>
  admin(async (a) => {
    const [committed] = await a.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await a.fetchTopicOffsets(topic);
    return ends.reduce((n, e) => n + Number(e.high) - Math.max(0, Number(committed!.partitions.find((p) => p.partition === e.partition)?.offset ?? -1)), 0);
  });

describe.skipIf(!servers.ok)('kafka semantics (real broker)', () => {
  const sinkAgent = (sink: string) => `agents:
  a:
    sources: { s: { type: manual, channels: [c] } }
    channels: { c: { type: memory, transactionCapacity: 100 }, dlq: { type: memory } }
    sinks:
      k: { type: kafka, channel: c, bootstrapServers: ${BROKERS}, batchSize: 100, ${sink} }
      dead: { type: probe, channel: dlq }
    deadLetter: { channel: dlq }
`;
  const deadOf = () => probe('dead').events;

  it.each([
    { path: 'the sink pre-check (maxMessageBytes)', maxMessageBytes: 1000, topicMax: undefined, reason: 'too-large' },
    { path: 'the broker (topic max.message.bytes)', maxMessageBytes: undefined, topicMax: 4096, reason: 'rejected-by-broker' },
  ])('plain sink: records too large for $path go to dead letters, every other record is delivered once', async ({ maxMessageBytes, topicMax, reason }) => {
    const topic = unique('sem-large');
    await admin((a) =>
      a.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: topicMax ? [{ name: 'max.message.bytes', value: String(topicMax) }] : [] }] }),
    );
    await start(sinkAgent(`topic: ${topic}${maxMessageBytes ? `, maxMessageBytes: ${maxMessageBytes}` : ''}`));
    const big = (i: number) => i % 37 === 5;
    const events = Array.from({ length: 600 }, (_, i) => Event.fromData({ transactionId: `tx-${i}`, pad: 'x'.repeat(big(i) ? 6000 : 20) }));
    await emit('s', events);
    const bad = events.filter((_, i) => big(i)).map(idOf);
    await waitFor('dead letters', () => deadOf().length >= bad.length, 60_000);
    const counts = await countIds(topic, events.length - bad.length, txId, 60_000);
    expect(deadOf().map(idOf).sort()).toEqual([...bad].sort());
    for (const e of deadOf()) {
      expect(e.headers).toMatchObject({ 'dl.reason': reason, 'dl.component': 'k' });
      expect(e.headers['dl.detail']).toBeTruthy();
    }
    expect([...counts.keys()].sort()).toEqual(events.map(idOf).filter((id) => !bad.includes(id)).sort());
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
  });

  it('plain sink: events whose %{dest} resolves to an invalid topic go to dead letters, the rest reach their topic once', async () => {
    const good = unique('sem-dest');
    await createTopic(good, 2);
    await start(sinkAgent('topic: "%{dest}"'));
    const invalid = ['has space', '..', '.', 'x'.repeat(250), 'é'];
    const events = Array.from({ length: 400 }, (_, i) => {
      const dest = i % 20 === 3 ? invalid[(i / 20) % invalid.length | 0] : i % 20 === 7 ? undefined : good;
      return Event.fromData({ transactionId: `tx-${i}` }, dest === undefined ? {} : { dest });
    });
    await emit('s', events);
    const bad = events.filter((e) => e.headers.dest !== good);
    await waitFor('dead letters', () => deadOf().length >= bad.length, 60_000);
    const counts = await countIds(good, events.length - bad.length, txId, 60_000);
    expect(deadOf().map(idOf).sort()).toEqual(bad.map(idOf).sort());
    for (const e of deadOf()) expect(e.headers, e.headers.dest).toMatchObject({ 'dl.reason': 'invalid-topic', 'dl.component': 'k' });
    expect([...counts.keys()].sort()).toEqual(events.filter((e) => e.headers.dest === good).map(idOf).sort());
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
  });

  it('source into a full memory channel: stays within capacity, stops reading and committing while the sink is blocked, then delivers every record once', async () => {
    const topic = unique('sem-backpressure');
    const group = unique('sem-g');
    await createTopic(topic, 2);
    const total = 6000;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: total }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ transactionId: `tx-${i}`, pad: 'p'.repeat(200) }) })) });
    await producer.disconnect();
    const slow = block('slow');
    const agent = await start(`agents:
  a:
    sources: { k: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${topic}], groupId: ${group}, startFrom: earliest, batchSize: 100, batchDurationMillis: 200, channels: [c], consumer: { maxBytesPerPartition: 65536 } } }
    channels: { c: { type: memory, capacity: 1000, transactionCapacity: 100 } }
    sinks: { slow: { type: probe, channel: c, batchSize: 100 } }
`);
    let maxSize = 0;
    const sampler = setInterval(() => (maxSize = Math.max(maxSize, stat(agent, 'c', 'size', 'channel'))), 5);
    try {
      await waitFor('the source backs off on a full channel', () => stat(agent, 'k', 'channel_write_failures_total', 'source') > 0, 60_000);
      const received = stat(agent, 'k', 'events_received_total', 'source');
      const behind = await lag(group, topic);
      await sleep(2500); // long enough for several fetches and retries, had the source not stopped
      expect(stat(agent, 'k', 'events_received_total', 'source')).toBe(received);
      expect(await lag(group, topic)).toBe(behind);
      // Committed offsets cover exactly what the channel accepted: the held batch is not committed.
      const accepted = stat(agent, 'k', 'events_accepted_total', 'source');
      expect(accepted).toBeLessThanOrEqual(1000);
      expect(behind).toBe(total - accepted);
      console.info(`[kafka-semantics] backpressure: received ${received}, accepted ${accepted}, lag ${behind} while blocked`);
      expect(slow.events).toHaveLength(0);
      slow.open();
      await waitFor('every record through the sink', () => new Set(slow.events.map(idOf)).size >= total, 60_000);
      await sleep(1000);
    } finally {
      clearInterval(sampler);
    }
    expect(maxSize).toBeGreaterThan(0);
    expect(maxSize).toBeLessThanOrEqual(1000);
    const counts = tally(slow.events.map(idOf));
    expect(counts.size).toBe(total);
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    await waitFor('all offsets committed', async () => (await lag(group, topic)) === 0, 10_000);
  });

  it('at-least-once across a rebalance: B joins, then A stops, mid-stream; every record is delivered, duplicates at most one batch per partition', async () => {
    const topic = unique('sem-rebalance');
    const group = unique('sem-g');
    const d = tempDir('fta-sem-');
    dirs.push(d);
    await createTopic(topic, 5);
    const batchSize = 200;
    const yaml = (out: string) => `agents:
  a:
    sources: { k: { type: kafka, bootstrapServers: ${BROKERS}, topics: [${topic}], groupId: ${group}, startFrom: earliest, batchSize: ${batchSize}, batchDurationMillis: 200, channels: [c] } }
    channels: { c: { type: memory, capacity: 5000, transactionCapacity: ${batchSize} } }
    sinks: { out: { type: file_roll, channel: c, directory: ${join(d, out)}, rollInterval: 0, batchSize: ${batchSize}, format: json-with-headers } }
`;
    // Records keep arriving through every phase, so each membership change happens mid-stream.
    let produced = 0;
    let producing = true;
    const producer = kafka.producer();
    await producer.connect();
    const feeding = (async () => {
      while (producing && produced < 150_000) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 250 }, (_, j) => ({ partition: (produced + j) % 5, value: JSON.stringify({ transactionId: `tx-${produced + j}` }) })) });
        produced += 250;
        await sleep(50);
      }
    })();
    let afterStop = 0;
    try {
      const a = await start(yaml('out-a'));
      await waitFor('A consuming', () => stat(a, 'out', 'events_drained_total') >= 2000, 60_000);
      const b = await start(yaml('out-b'));
      await waitFor('B consuming its share', () => stat(b, 'out', 'events_drained_total') >= 500, 60_000);
      await a.stop();
      afterStop = produced;
      await waitFor('more records after A left', () => produced >= afterStop + 3000, 60_000);
      producing = false;
      await feeding;
      await waitFor('B caught up', () => stat(a, 'out', 'events_drained_total') + stat(b, 'out', 'events_drained_total') >= produced, 90_000);
      await sleep(1000);
      await b.stop();
    } finally {
      producing = false;
      await feeding.catch(() => undefined);
      await producer.disconnect();
    }
    type Line = { headers: Record<string, string>; body: { transactionId: string } };
    const read = (out: string) => readLines(join(d, out)).map((l) => JSON.parse(l) as Line);
    const [fromA, fromB] = [read('out-a'), read('out-b')];
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromB.length).toBeGreaterThan(0);
    const counts = tally([...fromA, ...fromB].map((l) => l.body.transactionId));
    expect(counts.size).toBe(produced);
    // Written after A had left: only B can have delivered these, from all five partitions.
    const late = new Set(fromB.filter((l) => Number(l.body.transactionId.slice(3)) >= afterStop).map((l) => l.headers.partition));
    expect(late.size).toBe(5);
    const dupsPerPartition = [0, 1, 2, 3, 4].map((p) => [...fromA, ...fromB].filter((l) => l.headers.partition === String(p)).length - [...counts.keys()].filter((id) => Number(id.slice(3)) % 5 === p).length);
    console.info(`[kafka-semantics] rebalance: ${produced} records, duplicates per partition ${dupsPerPartition.join('/')}`);
    for (const n of dupsPerPartition) expect(n).toBeLessThanOrEqual(batchSize);
  });

  it('sink keys, headers, raw format and createTopics, as an independent consumer sees them', async () => {
    const keyed = unique('sem-keyed');
    const raw = unique('sem-raw');
    const agent = await start(`agents:
  a:
    sources: { s: { type: manual, channels: [c1] }, r: { type: manual, channels: [c2] } }
    channels: { c1: { type: memory }, c2: { type: memory } }
    sinks:
      keyed: { type: kafka, channel: c1, bootstrapServers: ${BROKERS}, topic: ${keyed}, key: merchantId, headers: [region, trace], createTopics: { partitions: 6 } }
      raw: { type: kafka, channel: c2, bootstrapServers: ${BROKERS}, topic: ${raw}, format: raw, createTopics: { partitions: 1 } }
`);
    const events = Array.from({ length: 600 }, (_, i) =>
      Event.fromData({ transactionId: `tx-${i}`, ...(i % 100 === 0 ? {} : { merchantId: `m${i % 23}` }), amount: i }, { region: `r${i % 3}`, trace: `t-${i}`, secret: 'not forwarded' }),
    );
    const bytes = Array.from({ length: 50 }, (_, i) => Buffer.from([0xff, 0x00, 0xc3, i, 0x80]));
    await emit('s', events);
    await emit('r', bytes.map((b) => Event.fromBytes(b)));
    await waitFor('both sinks drained', () => stat(agent, 'keyed', 'events_drained_total') >= events.length && stat(agent, 'raw', 'events_drained_total') >= bytes.length, 60_000);
    const got = await readAll(keyed, events.length);
    expect(got).toHaveLength(events.length);
    const partitionOf = new Map<string, Set<number>>();
    for (const m of got) {
      const body = JSON.parse(m.value!.toString()) as { transactionId: string; merchantId?: string; amount: number };
      const i = Number(body.transactionId.slice(3));
      expect(body).toEqual(events[i]!.data);
      expect(m.key?.toString()).toBe(body.merchantId);
      const h = Object.fromEntries(Object.entries(m.headers as IHeaders).map(([k, v]) => [k, String(v)]));
      expect(h).toEqual({ region: `r${i % 3}`, trace: `t-${i}` });
      if (body.merchantId) partitionOf.set(body.merchantId, (partitionOf.get(body.merchantId) ?? new Set()).add(m.partition));
    }
    expect([...partitionOf.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...partitionOf.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);

    const rawGot = await readAll(raw, bytes.length);
    expect(rawGot.map((m) => [...m.value!])).toEqual(bytes.map((b) => [...b]));

    const created = await admin((a) => a.fetchTopicMetadata({ topics: [keyed, raw] }));
    expect(Object.fromEntries(created.topics.map((t) => [t.name, t.partitions.length]))).toEqual({ [keyed]: 6, [raw]: 1 });
  });

  it('source topicsRegex, text and raw formats, and the topic/key/timestamp/partition/offset headers', async () => {
    const p = unique('sem-src');
    const [rxA, rxB, other, text, rawTopic] = [`${p}-rx-a`, `${p}-rx-b`, `${p}-rx-c`, `${p}-text`, `${p}-raw`];
    for (const t of [rxA, rxB, other, rawTopic]) await createTopic(t, 1);
    await createTopic(text, 2);
    const producer = kafka.producer();
    await producer.connect();
    for (const t of [rxA, rxB, other]) await producer.send({ topic: t, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: JSON.stringify({ transactionId: `${t}/${i}` }) })) });
    const base = Date.UTC(2024, 0, 1);
    const lines = Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, key: i % 5 === 0 ? null : `k${i}`, timestamp: String(base + i * 1000), value: `line ${i}: not json {` }));
    await producer.send({ topic: text, acks: -1, messages: lines });
    const blobs = Array.from({ length: 20 }, (_, i) => Buffer.from([0xfe, i, 0x00, 0xff]));
    await producer.send({ topic: rawTopic, acks: -1, messages: blobs.map((value, i) => ({ value, key: `b${i}` })) });
    await producer.disconnect();
    const src = (name: string, rest: string) => `${name}: { type: kafka, bootstrapServers: ${BROKERS}, groupId: ${unique('sem-g')}, startFrom: earliest, batchDurationMillis: 200, channels: [c_${name}], ${rest} }`;
    await start(`agents:
  a:
    sources:
      ${src('rx', `topicsRegex: "^${p}-rx-[ab]$"`)}
      ${src('text', `topics: [${text}], format: text`)}
      ${src('raw', `topics: [${rawTopic}], format: raw, keyHeader: kk, offsetHeader: ""`)}
    channels: { c_rx: { type: memory }, c_text: { type: memory }, c_raw: { type: memory }, dlq: { type: memory } }
    sinks:
      out_rx: { type: probe, channel: c_rx }
      out_text: { type: probe, channel: c_text }
      out_raw: { type: probe, channel: c_raw }
      dead: { type: probe, channel: dlq }
    deadLetter: { channel: dlq }
`);
    const rx = probe('out_rx').events;
    const txt = probe('out_text').events;
    const rawEvents = probe('out_raw').events;
    await waitFor('every source delivered', () => rx.length >= 60 && txt.length >= lines.length && rawEvents.length >= blobs.length, 60_000);
    await sleep(1500); // the non-matching topic would have shown up by now

    expect(new Set(rx.map((e) => e.headers.topic))).toEqual(new Set([rxA, rxB]));
    expect(new Set(rx.map(idOf))).toEqual(new Set([rxA, rxB].flatMap((t) => Array.from({ length: 30 }, (_, i) => `${t}/${i}`))));
    expect(rx).toHaveLength(60);

    expect(txt).toHaveLength(lines.length);
    for (const e of txt) {
      const i = Number(/^line (\d+):/.exec(e.text)![1]);
      const l = lines[i]!;
      expect(e.text).toBe(l.value);
      const expected: Record<string, string> = { topic: text, partition: String(l.partition), offset: String(Math.floor(i / 2)), timestamp: l.timestamp };
      if (l.key) expected.key = l.key;
      expect(e.headers).toEqual(expected);
    }

    expect(rawEvents.map((e) => [...e.bytes])).toEqual(blobs.map((b) => [...b]));
    rawEvents.forEach((e, i) => expect(e.headers).toEqual({ topic: rawTopic, partition: '0', kk: `b${i}`, timestamp: expect.stringMatching(/^\d+$/) }));
    expect(probe('dead').events).toHaveLength(0);
  });
});

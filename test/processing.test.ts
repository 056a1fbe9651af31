/**
 * conf/fintrans-processing.yaml, unchanged but for names from the environment, against the real broker (and
 * QuestDB for the InfluxDB line protocol): generated transactions with planted fraud go into Kafka; the aggregates
 * read back from `transaction_aggregates` equal sums computed here from the input, and the anomalies read back from
 * `transaction_anomalies` are exactly the planted patterns.
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Event } from '../agent/index.ts';
import { silentLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { generate, plantedGroups } from '../plugins/sources/generator.ts';
import { createTopic, kafka, produce, unique } from './helpers/kafka.ts';
import { cleanup, stat, tempDir, waitFor } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka', 'questdb']);
const CONF = resolve(import.meta.dirname, '..', 'conf', 'fintrans-processing.yaml');
const dir = tempDir('fta-processing-');
afterAll(() => cleanup(dir));

/** Every record of a topic, read from the beginning until `expected` arrived and nothing more came for a while. */
async function readTopic(topic: string, expected: number): Promise<Record<string, any>[]> {
  const consumer = kafka.consumer({ groupId: unique('read'), maxWaitTimeInMs: 200 });
  const out: Record<string, any>[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push(JSON.parse(message.value!.toString())) });
  let settled = 0;
  await waitFor(`${expected} records in ${topic}`, () => {
    if (out.length < expected) return false;
    settled ||= Date.now();
    return Date.now() - settled > 1500; // duplicates would show up here
  }, 90_000);
  await consumer.disconnect();
  return out;
}

const env = (extra: Record<string, string>) => ({ ...process.env, STATE_DIR: `${dir}/state`, DATA_DIR: `${dir}/data`, OUT_DIR: `${dir}/out`, KAFKA_BROKERS: endpoints.kafka.brokers[0]!, ...extra });
const cents = (amount: number) => Math.round(amount * 100);

describe.skipIf(!servers.ok)('conf/fintrans-processing.yaml (real Kafka and QuestDB)', () => {
  it('processing: per-merchant minutes equal independent sums; anomalies are exactly the planted patterns', async () => {
    const names = { KAFKA_TOPIC: unique('financial_transactions'), AGGREGATES_TOPIC: unique('transaction_aggregates'), ANOMALIES_TOPIC: unique('transaction_anomalies'), KAFKA_GROUP: unique('processing') };
    // 100 events/s of event time: 60k events are ten minutes, so nine minutes close while the agent runs.
    const gen = { schema: 'financial_transactions' as const, count: 60_000, seed: 7, rate: 100, startTime: '2024-03-01T00:00:00Z', anomalies: { bursts: { rate: 0.0005, size: 15 }, largeAmounts: { rate: 0.0005 }, locationHops: { rate: 0.0005, locations: 4 } } };
    const events = generate(gen);
    const planted = plantedGroups(gen);
    // One partition: event time then arrives in order (across partitions, allowedLateness must cover their skew).
    await createTopic(names.KAFKA_TOPIC, 1);
    await produce(names.KAFKA_TOPIC, events.map((e) => e.text), (i) => (events[i]!.data as { merchantId: string }).merchantId);

    const agent = await startAgent({ conf: CONF, name: 'processing', env: env(names), log: silentLogger(), metricsPort: false });
    await waitFor('every transaction processed', () => stat(agent, 'transactions', 'events_accepted_total') >= events.length, 120_000);
    await waitFor('results drained', () => agent.agent.channels.get('aggregates')!.size() === 0 && agent.agent.channels.get('anomalies')!.size() === 0, 60_000);
    const aggregatesSent = stat(agent, 'to_aggregates', 'events_drained_total');
    const anomaliesSent = stat(agent, 'to_anomalies', 'events_drained_total');
    await agent.stop(); // open windows go to stateDir, not to the topic

    // Aggregates: every closed (minute, merchant) once, with exact sums computed here from the input.
    const data = events.map((e) => e.data as { transactionId: string; userId: string; amount: number; transactionTime: number; merchantId: string });
    const watermark = Math.max(...data.map((d) => d.transactionTime)) * 1000 - 5000;
    const expected = new Map<string, { sum: number; count: number; max: number }>();
    for (const d of data) {
      const start = Math.floor(d.transactionTime / 60) * 60_000;
      if (start + 60_000 > watermark) continue;
      const key = `${new Date(start).toISOString()}|${d.merchantId}`;
      const e = expected.get(key) ?? { sum: 0, count: 0, max: -Infinity };
      e.sum += cents(d.amount);
      e.count++;
      e.max = Math.max(e.max, d.amount);
      expected.set(key, e);
    }
    expect(aggregatesSent).toBe(expected.size);
    const aggregates = await readTopic(names.AGGREGATES_TOPIC, expected.size);
    expect(aggregates.length).toBe(expected.size);
    for (const a of aggregates) {
      const e = expected.get(`${a.windowStart}|${a.merchantId}`);
      expect(e, `unexpected window ${a.windowStart} ${a.merchantId}`).toBeDefined();
      expect({ total: cents(a.totalAmount), count: a.txCount, max: a.maxAmount }).toEqual({ total: e!.sum, count: e!.count, max: e!.max });
      expect(a.totalAmount).toBe(e!.sum / 100); // exact to the cent, no float drift in the text either
    }

    // Anomalies: one per planted burst (high-frequency) and hop (impossible-travel), one big-ticket per large
    // amount; nothing on clean transactions.
    const anomalies = await readTopic(names.ANOMALIES_TOPIC, anomaliesSent);
    const plantedIds = new Set(planted.flatMap((g) => g.events.map((e: Event) => (e.data as { transactionId: string }).transactionId)));
    const userOf = (g: (typeof planted)[number]) => (g.events[0]!.data as { userId: string }).userId;
    const fired = (rule: string) => anomalies.filter((a) => a.ruleId === rule);
    expect(fired('high-frequency').map((a) => a.keys.userId).sort()).toEqual(planted.filter((g) => g.pattern === 'burst').map(userOf).sort());
    expect(fired('impossible-travel').map((a) => a.keys.userId).sort()).toEqual(planted.filter((g) => g.pattern === 'locationHop').map(userOf).sort());
    const large = planted.filter((g) => g.pattern === 'largeAmount').flatMap((g) => g.events.map((e: Event) => (e.data as { transactionId: string }).transactionId));
    expect(fired('big-ticket').flatMap((a) => a.transactionIds).sort()).toEqual(large.sort());
    expect(planted.length).toBeGreaterThan(30);
    for (const a of anomalies) for (const id of a.transactionIds) expect(plantedIds.has(id), `${a.ruleId} flagged clean ${id}`).toBe(true);
  });

  it('transfers: seed 004\'s laundering detector finds every planted chain; per-city volume reaches QuestDB exactly', async () => {
    const names = { TRANSFERS_TOPIC: unique('fintrans'), TRANSFERS_GROUP: unique('transfers'), ANOMALIES_TOPIC: unique('transaction_anomalies'), INFLUX_URL: endpoints.questdb.url, CITY_MEASUREMENT: unique('city_volume').replace(/-/g, '_') };
    const gen = { schema: 'fintrans' as const, count: 20_000, seed: 11, rate: 100, startTime: '2024-03-01T00:00:00Z', anomalies: { laundering: { rate: 0.001 } } };
    const events = generate(gen);
    const chains = plantedGroups(gen).filter((g) => g.pattern === 'laundering');
    await createTopic(names.TRANSFERS_TOPIC, 1);
    await produce(names.TRANSFERS_TOPIC, events.map((e) => e.text));
    const agent = await startAgent({ conf: CONF, name: 'transfers', env: env(names), log: silentLogger(), metricsPort: false });
    await waitFor('every transfer processed', () => stat(agent, 'transfers', 'events_accepted_total') >= events.length, 120_000);
    await waitFor('results drained', () => agent.agent.channels.get('city_volume')!.size() === 0 && agent.agent.channels.get('anomalies')!.size() === 0, 60_000);
    const anomaliesSent = stat(agent, 'to_anomalies', 'events_drained_total');
    const pointsSent = stat(agent, 'to_influx', 'events_drained_total');
    await agent.stop();

    const anomalies = await readTopic(names.ANOMALIES_TOPIC, anomaliesSent);
    const pair = (d: { source: string; target: string }) => `${d.source}->${d.target}`;
    expect(anomalies.map((a) => `${a.keys.source}->${a.keys.target}`).sort()).toEqual(chains.map((g) => pair(g.events[0]!.data as { source: string; target: string })).sort());
    expect(chains.length).toBeGreaterThan(5);

    // Per-city volume of every closed 10-second window, against sums computed here.
    const data = events.map((e) => e.data as { city: string; amount: number; ts: number });
    const watermark = Math.max(...data.map((d) => d.ts)) - 5000;
    let windows = 0;
    const byCity = new Map<string, number>();
    const seen = new Set<string>();
    for (const d of data) {
      const start = Math.floor(d.ts / 10_000) * 10_000;
      if (start + 10_000 > watermark) continue;
      byCity.set(d.city, (byCity.get(d.city) ?? 0) + d.amount);
      if (!seen.has(`${start}|${d.city}`)) (seen.add(`${start}|${d.city}`), windows++);
    }
    expect(pointsSent).toBe(windows);
    const table = names.CITY_MEASUREMENT;
    let rows: unknown[][] = [];
    await waitFor('QuestDB has every window', async () => {
      const r = (await (await fetch(`${endpoints.questdb.url}/exec?query=${encodeURIComponent(`SELECT city, sum(volume), count() FROM '${table}' ORDER BY city`)}`)).json()) as { dataset?: unknown[][] };
      rows = r.dataset ?? [];
      return rows.reduce((n, row) => n + Number(row[2]), 0) === windows;
    }, 60_000);
    expect(Object.fromEntries(rows.map((row) => [row[0], row[1]]))).toEqual(Object.fromEntries([...byCity].sort()));
  });
});

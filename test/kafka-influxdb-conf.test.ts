/**
 * conf/kafka-influxdb.yaml as shipped (names from the environment only) against the real broker and QuestDB's
 * /api/v2/write, its default target: seed 003's upload step (`finance`) and seed 004's per-city volume
 * (`by_city`). The measurements have fixed names, so each run generates its events in a time range of its own
 * and reads back only that range.
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { generate } from '../plugins/sources/generator.ts';
import { createTopic, produce, unique } from './helpers/kafka.ts';
import { cleanup, stat, tempDir, waitFor } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka', 'questdb']);
const CONF = resolve(import.meta.dirname, '..', 'conf', 'kafka-influxdb.yaml');
const dir = tempDir('fta-kafka-influx-');
afterAll(() => cleanup(dir));

/** A start time no other run uses: a random hour between 2001 and 2020. */
const runStart = () => new Date(Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 20 * 365 * 24) * 3_600_000);
const env = (extra: Record<string, string>) => ({ ...process.env, DATA_DIR: `${dir}/data`, OUT_DIR: `${dir}/out`, KAFKA_BROKERS: endpoints.kafka.brokers[0]!, INFLUX_URL: endpoints.questdb.url, ...extra });

/** Rows of a QuestDB query, polled until `done` accepts them (WAL tables show rows a moment after the 204). */
async function rows(sql: string, done: (rows: unknown[][]) => boolean): Promise<unknown[][]> {
  let last: unknown[][] = [];
  await waitFor(`QuestDB: ${sql}`, async () => {
    const r = (await (await fetch(`${endpoints.questdb.url}/exec?query=${encodeURIComponent(sql)}`)).json()) as { dataset?: unknown[][] };
    last = r.dataset ?? [];
    return done(last);
  }, 60_000);
  return last;
}
const within = (from: Date, minutes: number) => `timestamp >= '${from.toISOString()}' AND timestamp < '${new Date(from.getTime() + minutes * 60_000).toISOString()}'`;
const cents = (n: number) => Math.round(n * 100);
const sumBy = <T>(items: T[], key: (t: T) => string, value: (t: T) => number) => items.reduce<Record<string, number>>((acc, t) => ((acc[key(t)] = (acc[key(t)] ?? 0) + value(t)), acc), {});

describe.skipIf(!servers.ok)('conf/kafka-influxdb.yaml (real Kafka and QuestDB)', () => {
  it('finance: every seed 003 transaction becomes one point of finance_transaction_data, and finance_volume sums per merchant', async () => {
    const start = runStart();
    const events = generate({ schema: 'finance', count: 3000, seed: 5, rate: 100, startTime: start.toISOString() }); // 30 minutes
    const data = events.map((e) => e.data as { amount: number; merchant_id: string | null; transaction_id: string });
    const names = { KAFKA_TOPIC: unique('finance'), KAFKA_GROUP: unique('influx') };
    await createTopic(names.KAFKA_TOPIC, 3);
    await produce(names.KAFKA_TOPIC, events.map((e) => e.text));
    const agent = await startAgent({ conf: CONF, name: 'finance', env: env(names), log: silentLogger(), metricsPort: false });
    try {
      await waitFor('both sinks drained every event', () => stat(agent, 'influx', 'events_drained_total') >= events.length && stat(agent, 'volume', 'events_drained_total') >= events.length, 90_000);
      expect(agent.agent.channels.get('dlq')!.size()).toBe(0);
    } finally {
      await agent.stop();
    }
    const [[count, total, ids]] = (await rows(`SELECT count(), sum(amount), count_distinct(transaction_id) FROM finance_transaction_data WHERE ${within(start, 31)}`, (r) => Number(r[0]?.[0]) >= events.length)) as number[][];
    expect({ count, ids, total: cents(total!) }).toEqual({ count: events.length, ids: new Set(data.map((d) => d.transaction_id)).size, total: cents(data.reduce((n, d) => n + d.amount, 0)) });
    const merchants = data.filter((d) => d.merchant_id !== null);
    const perMerchant = await rows(`SELECT merchant_id, sum(amount), count() FROM finance_volume WHERE ${within(start, 31)} AND merchant_id IS NOT NULL ORDER BY merchant_id`, (r) => r.reduce((n, row) => n + Number(row[2]), 0) >= merchants.length);
    expect(Object.fromEntries(perMerchant.map((r) => [r[0], cents(r[1] as number)]))).toEqual(sumBy(merchants, (d) => d.merchant_id!, (d) => cents(d.amount)));
  });

  it('by_city: seed 004 transfers produced after the agent joined become per-city points, none lost', async () => {
    const start = runStart();
    const events = generate({ schema: 'fintrans', count: 3000, seed: 9, rate: 100, startTime: start.toISOString() });
    const data = events.map((e) => e.data as { city: string; amount: number });
    const names = { FINTRANS_TOPIC: unique('fintrans'), FINTRANS_GROUP: unique('by-city') };
    await createTopic(names.FINTRANS_TOPIC, 1);
    const agent = await startAgent({ conf: CONF, name: 'by_city', env: env(names), log: silentLogger(), metricsPort: false });
    try {
      // startFrom: latest, as the demo's dashboard wants: the data goes in only once a probe transfer (a day before
      // this run's range, so never counted) came through, which proves the consumer is positioned.
      const probe = JSON.stringify({ city: 'probe', source: 'p', target: 'q', amount: 0, ts: start.getTime() - 86_400_000 });
      await waitFor('the agent consumes the topic', async () => {
        await produce(names.FINTRANS_TOPIC, [probe]);
        await new Promise((r) => setTimeout(r, 500));
        return stat(agent, 'kafka_fintrans', 'events_received_total') > 0;
      }, 60_000);
      const probes = stat(agent, 'kafka_fintrans', 'events_received_total');
      await produce(names.FINTRANS_TOPIC, events.map((e) => e.text));
      await waitFor('every transfer written', () => stat(agent, 'influx', 'events_drained_total') >= events.length + probes, 90_000);
    } finally {
      await agent.stop();
    }
    const perCity = await rows(`SELECT city, sum(amount), count() FROM transactions_by_city WHERE ${within(start, 31)} ORDER BY city`, (r) => r.reduce((n, row) => n + Number(row[2]), 0) >= events.length);
    expect(perCity.reduce((n, r) => n + Number(r[2]), 0)).toBe(events.length); // uniqueTimestamps: no point overwrote another
    expect(Object.fromEntries(perCity.map((r) => [r[0], cents(r[1] as number)]))).toEqual(sumBy(data, (d) => d.city, (d) => cents(d.amount)));
  });
});

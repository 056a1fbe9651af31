/**
 * The influxdb sink against real servers: the v2 API against QuestDB (which implements /api/v2/write and ignores
 * org, bucket and token) and the v1 API against InfluxDB 1.6; rows are read back with each server's query API.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { cleanup, readLines, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { endpoints, ensureServers, startServer, stopServer } from './servers.ts';
import influxSink from '../plugins/sinks/influxdb.ts';

// Credentials come from the environment (a literal, even as a ${VAR:-default}, is refused by validation); the
// servers here do not check them.
process.env.QDB_TOKEN ??= 'ignored-by-questdb';
process.env.INFLUX_PASSWORD ??= 'unused-without-auth';
const servers = await ensureServers(['questdb', 'influxdb']);
const QDB = endpoints.questdb.url;
const INFLUX = endpoints.influxdb.url;
const DB = endpoints.influxdb.database;

const start = (conf: string) => startAgent({ conf, log: silentLogger(), metricsPort: false });

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const dir = () => {
  const d = tempDir('fta-influx-');
  dirs.push(d);
  return d;
};
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;

/** Drops a complete JSON-lines file into a spool directory (written aside, then moved in). */
function spool(d: string, name: string, records: unknown[]): void {
  mkdirSync(join(d, 'spool'), { recursive: true });
  writeFileSync(join(d, `.${name}`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  renameSync(join(d, `.${name}`), join(d, 'spool', name));
}

interface QdbResult {
  columns?: { name: string; type: string }[];
  dataset?: unknown[][];
  error?: string;
}
async function qdb(sql: string): Promise<QdbResult> {
  return (await (await fetch(`${QDB}/exec?query=${encodeURIComponent(sql)}`)).json()) as QdbResult;
}
/** Polls QuestDB (WAL tables show rows a moment after the 204) until `sql`'s single value equals `want`. */
async function qdbValue(sql: string, want: number): Promise<number> {
  let last: unknown;
  await waitFor(`${sql} = ${want} (last: ${JSON.stringify(last)})`, async () => {
    const r = await qdb(sql);
    last = r.error ?? r.dataset?.[0]?.[0];
    return last === want;
  }, 60_000);
  return last as number;
}

interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
async function influxql(q: string): Promise<InfluxSeries[]> {
  const res = (await (await fetch(`${INFLUX}/query?db=${DB}&q=${encodeURIComponent(q)}`)).json()) as { error?: string; results?: { series?: InfluxSeries[]; error?: string }[] };
  const error = res.error ?? res.results?.[0]?.error;
  if (error) throw new Error(`${q}: ${error}`);
  return res.results?.[0]?.series ?? [];
}

const TYPES = ['deposit', 'withdrawal', 'transfer', 'payment'];
const CURRENCIES = ['USD', 'EUR', 'JPY', 'GBP'];
const BRANCHES = ['Main Street', 'Second Avenue', 'Third Boulevard', 'Fourth Square'];
const CITIES = ['New York', 'San Francisco', 'London', 'Tokyo', 'Berlin'];
const T0 = Date.UTC(2024, 10, 3, 23, 0, 0);

/** A record of seed 003's generator, deterministic; some descriptions carry quotes, backslashes, commas and equals signs. */
function financeRecord(i: number) {
  const type = TYPES[i % 4]!;
  const amount = 100 + ((i * 7919) % 490_000) / 100;
  const currency = CURRENCIES[i % 4]!;
  return {
    transaction_id: `T${100000 + i}`,
    account_id: `A${200000 + (i % 700)}`,
    transaction_type: type,
    amount,
    currency,
    transaction_date: new Date(T0 + i * 1000).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`),
    description: i % 10 === 7 ? `He said "pay ${amount}", path C:\\tmp\\, a=b` : `${type[0]!.toUpperCase()}${type.slice(1)} of ${amount} ${currency}`,
    branch: BRANCHES[i % 4]!,
    customer_age: 18 + (i % 62),
    customer_gender: ['Male', 'Female', 'Other'][i % 3]!,
    account_balance: 1000 + (i % 4900) * 10.25,
    transaction_channel: ['online', 'ATM', 'branch', 'mobile'][i % 4]!,
    transaction_status: ['completed', 'pending', 'failed'][i % 3]!,
    merchant_id: type === 'payment' || type === 'transfer' ? `M${1000 + (i % 97)}` : null,
    location_city: CITIES[i % 5]!,
    location_country: ['USA', 'USA', 'UK', 'Japan', 'Germany'][i % 5]!,
  };
}

const SEED_TAGS = '[transaction_id, account_id, transaction_type, currency, branch]';
const SEED_FIELDS = '[amount, transaction_date, description, customer_age, customer_gender, account_balance, transaction_channel, transaction_status, merchant_id, location_city, location_country]';

describe.skipIf(!servers.ok)('influxdb sink (real servers)', () => {
  it('api v2 → QuestDB: seed 003 upload, every row with its types, escapes and event time (gzip)', async () => {
    const d = dir();
    const table = unique('finance_transaction_data');
    const records = Array.from({ length: 3000 }, (_, i) => financeRecord(i));
    spool(d, 'finance-1.json', records.slice(0, 1700));
    spool(d, 'finance-2.json', records.slice(1700));
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: memory } }
    sinks:
      q:
        type: influxdb
        channel: c
        url: ${QDB}
        org: fintrans
        bucket: kafka-finance
        token: "\${QDB_TOKEN:-ignored-by-questdb}"
        measurement: ${table}
        tags: ${SEED_TAGS}
        fields: ${SEED_FIELDS}
        integerFields: [customer_age]
        timestampField: transaction_date
        gzip: true
        batchSize: 500
`,
      ),
    );
    await waitFor('3000 drained', () => stat(agent, 'q', 'events_drained_total') >= 3000, 60_000);
    await agent.stop();
    await qdbValue(`select count() from '${table}'`, 3000);
    const sum = (await qdb(`select sum(amount) from '${table}'`)).dataset![0]![0] as number;
    expect(sum).toBeCloseTo(records.reduce((s, r) => s + r.amount, 0), 4);
    const types = Object.fromEntries((await qdb(`select * from '${table}' limit 1`)).columns!.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ transaction_id: 'SYMBOL', branch: 'SYMBOL', amount: 'DOUBLE', customer_age: 'LONG', description: 'VARCHAR', timestamp: 'TIMESTAMP' });
    for (const i of [7, 8, 2997]) {
      const r = await qdb(`select transaction_id, branch, description, customer_age, merchant_id, timestamp from '${table}' where transaction_id = 'T${100000 + i}'`);
      const rec = records[i]!;
      expect(r.dataset).toEqual([[rec.transaction_id, rec.branch, rec.description, rec.customer_age, rec.merchant_id, rec.transaction_date.replace(/(\.\d{6})\d*Z$/, '$1Z')]]);
    }
  });

  it('api v1 → InfluxDB 1.x: seed 004 per-city volume, points sharing a millisecond all kept', async () => {
    const d = dir();
    const measurement = unique('transactions_by_city');
    // Eight transactions per millisecond over five cities: without uniqueTimestamps InfluxDB would keep one per city and ms.
    const records = Array.from({ length: 4000 }, (_, i) => ({ city: ['London', 'NYC', 'SF', 'Moscow', 'Tokyo'][i % 5]!, source: String(i % 1000), target: String((i * 7) % 1000), amount: (i % 1000) + 1, ts: T0 + Math.floor(i / 8) }));
    spool(d, 'fintrans.json', records);
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 1000, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: memory } }
    sinks:
      i: { type: influxdb, api: v1, channel: c, url: ${INFLUX}, db: ${DB}, username: writer, password: "\${INFLUX_PASSWORD:-unused-without-auth}", measurement: ${measurement}, tags: [city], fields: [amount], timestampField: ts, precision: us, batchSize: 1000 }
`,
      ),
    );
    await waitFor('4000 drained', () => stat(agent, 'i', 'events_drained_total') >= 4000, 60_000);
    await agent.stop();
    const series = await influxql(`SELECT count(amount), sum(amount) FROM "${measurement}" GROUP BY city`);
    const got = Object.fromEntries(series.map((s) => [s.tags!.city!, [s.values[0]![1], s.values[0]![2]]]));
    const want: Record<string, [number, number]> = {};
    for (const r of records) {
      const w = (want[r.city] ??= [0, 0]);
      w[0]++;
      w[1] += r.amount;
    }
    expect(got).toEqual(want);
  });

  it('escaping round-trips through both servers', async () => {
    const d = dir();
    const table = unique('esc');
    const measurement = `esc m,${table}`;
    const records = [
      { place: 'New York, NY=1 x', note: 'He said "hi" \\ bye, a=b', n: 1.5, ok: true, qty: 3, ts: 1_700_000_000 },
      { place: 'plain', note: '', n: -0.25, ok: false, qty: -7, ts: 1_700_000_001_000 },
    ];
    spool(d, 'esc.json', records);
    const sink = `tags: [place], fields: [note, n, ok, qty], integerFields: [qty], timestampField: ts`;
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, fileStableMs: 0, pollDelay: 50, channels: [cq, ci] } }
    channels: { cq: { type: memory }, ci: { type: memory } }
    sinks:
      q: { type: influxdb, channel: cq, url: ${QDB}, bucket: b, measurement: ${table}, ${sink} }
      i: { type: influxdb, channel: ci, api: v1, url: ${INFLUX}, db: ${DB}, measurement: "${measurement}", ${sink} }
`,
      ),
    );
    await waitFor('both drained', () => stat(agent, 'q', 'events_drained_total') >= 2 && stat(agent, 'i', 'events_drained_total') >= 2, 60_000);
    await agent.stop();
    await qdbValue(`select count() from '${table}'`, 2);
    const q = await qdb(`select place, note, n, ok, qty, timestamp from '${table}' order by timestamp`);
    expect(q.dataset).toEqual(records.map((r, i) => [r.place, r.note, r.n, r.ok, r.qty, i ? '2023-11-14T22:13:21.000000Z' : '2023-11-14T22:13:20.000000Z']));
    const s = await influxql(`SELECT place, note, n, ok, qty FROM "${measurement.replace(/"/g, '\\"')}"`);
    expect(s[0]!.values).toEqual(records.map((r, i) => [i ? '2023-11-14T22:13:21Z' : '2023-11-14T22:13:20Z', r.place, r.note, r.n, r.ok, r.qty]));
  });

  it('a batch with a field type conflict writes the good points and dead-letters the bad one with the server\'s reason', async () => {
    const d = dir();
    const name = unique('conflict');
    const records = Array.from({ length: 200 }, (_, i) => ({ id: `tx-${i}`, amount: i === 120 ? '120 USD' : i + 0.5, ts: T0 + i }));
    spool(d, 'conflict.json', records);
    const sink = `measurement: ${name}, tags: [id], fields: [amount], timestampField: ts, batchSize: 500`;
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [cq, ci] } }
    channels: { cq: { type: memory }, ci: { type: memory }, dlq: { type: memory } }
    sinks:
      q: { type: influxdb, channel: cq, url: ${QDB}, bucket: b, ${sink} }
      i: { type: influxdb, channel: ci, api: v1, url: ${INFLUX}, db: ${DB}, ${sink} }
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
`,
      ),
    );
    await waitFor('both batches done, two dead letters', () => stat(agent, 'q', 'events_drain_attempts_total') >= 200 && stat(agent, 'i', 'events_drain_attempts_total') >= 200 && stat(agent, 'dead', 'events_drained_total') >= 2, 60_000);
    expect(stat(agent, 'q', 'events_drained_total')).toBe(199);
    expect(stat(agent, 'i', 'events_drained_total')).toBe(199);
    await agent.stop();
    await qdbValue(`select count() from '${name}'`, 199);
    const [series] = await influxql(`SELECT count(amount) FROM "${name}"`);
    expect(series!.values[0]![1]).toBe(199);
    const dead = readLines(join(d, 'dead')).map((l) => JSON.parse(l) as { headers: Record<string, string>; body: { id: string } });
    expect(dead).toHaveLength(2);
    const by = Object.fromEntries(dead.map((x) => [x.headers['dl.component'], x]));
    for (const c of ['q', 'i']) expect(by[c]).toMatchObject({ headers: { 'dl.reason': 'rejected-by-server' }, body: { id: 'tx-120' } });
    expect(by.q!.headers['dl.detail']).toMatch(/^HTTP 400: [\s\S]*column: amount; cast error from protocol type: STRING to column type: DOUBLE/);
    expect(by.i!.headers['dl.detail']).toMatch(/^HTTP 400: partial write: field type conflict: input field "amount" .* is type string, already exists as type float/);
  });

  it('loses nothing when QuestDB is stopped and restarted mid-stream', async () => {
    const d = dir();
    const table = unique('restart');
    const agent = await start(
      writeConfig(
        d,
        `agents:
  a:
    sources: { g: { type: generator, count: 20000, rate: 4000, seed: 3, batchSize: 500, channels: [wal] } }
    channels: { wal: { type: file, transactionCapacity: 1000 } }
    sinks: { q: { type: influxdb, channel: wal, url: ${QDB}, bucket: b, measurement: ${table}, tags: [merchantId], fields: [transactionId, amount], batchSize: 1000, timeoutMs: 3000 } }
`,
      ),
    );
    await waitFor('some delivered', () => stat(agent, 'q', 'events_drained_total') >= 4000, 60_000);
    await stopServer('questdb');
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(stat(agent, 'q', 'events_drained_total')).toBeLessThan(20_000);
    } finally {
      await startServer('questdb');
    }
    await waitFor('all delivered after the restart', () => stat(agent, 'q', 'events_drained_total') >= 20_000, 120_000);
    expect(stat(agent, 'q', 'write_failures_total')).toBeGreaterThan(0);
    await agent.stop();
    // Every transaction is there; a batch QuestDB committed just before it stopped may be there twice.
    await qdbValue(`select count_distinct(transactionId) from '${table}'`, 20_000);
    const total = (await qdb(`select count() from '${table}'`)).dataset![0]![0] as number;
    expect(total - 20_000).toBeLessThanOrEqual(1000);
  });
});

// The shared sink compliance suite, against QuestDB.
if (servers.ok) {
  const { sinkCompliance } = await import('../agent/testing/compliance.ts');
  const { testContext } = await import('../agent/testing/context.ts');
  const table = unique('compliance');
  sinkCompliance(
    'influxdb (v2 → QuestDB)',
    async () =>
      influxSink.create(
        { url: QDB, api: 'v2', bucket: 'b', measurement: table, tags: [], fields: ['id'], integerFields: ['id'], precision: 'ns', uniqueTimestamps: true, batchSize: 100, flushIntervalMs: 0, timeoutMs: 10_000, gzip: false },
        testContext('sink', 'influxdb'),
      ),
    async () => {
      await qdbValue(`select count() from '${table}'`, 2000);
      return (await qdb(`select id from '${table}'`)).dataset!.map(([id]) => JSON.stringify({ id }));
    },
  );
}

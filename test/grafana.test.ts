/**
 * The Grafana dashboards in examples/grafana/ query only what the project really writes: measurements, tags and
 * fields of the influxdb sinks in conf/kafka-influxdb.yaml, and metric and label names the agent's Prometheus
 * endpoint exports (built here from a real MetricsRegistry with one component of each kind and an influxdb sink).
 * With InfluxDB up, every InfluxQL panel query also runs against data written by those sinks' settings.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { MetricsRegistry } from '../agent/metrics/registry.ts';
import { STANDARD_METRICS } from '../agent/metrics/stats.ts';
import { PluginRegistry } from '../agent/registry.ts';
import { loadAndValidate, startAgent } from '../agent/run.ts';
import { testContext } from '../agent/testing/context.ts';
import type { ComponentKind } from '../agent/types.ts';
import influxSink, { type InfluxSinkConfig } from '../plugins/sinks/influxdb.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const root = resolve(import.meta.dirname, '..');
const dashboardsDir = join(root, 'examples/grafana');

interface Target {
  dashboard: string;
  panel: string;
  query?: string;
  expr?: string;
}

/** Every query of every panel (rows included) and of every query variable. */
function targets(): Target[] {
  const out: Target[] = [];
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as { panels: unknown[]; templating?: { list: { name: string; query?: unknown }[] } };
    const walk = (panels: unknown[]) => {
      for (const p of panels as { title: string; targets?: { query?: string; expr?: string }[]; panels?: unknown[] }[]) {
        for (const t of p.targets ?? []) out.push({ dashboard: file, panel: p.title, query: t.query, expr: t.expr });
        if (p.panels) walk(p.panels);
      }
    };
    walk(d.panels);
    for (const v of d.templating?.list ?? []) {
      const q = typeof v.query === 'object' && v.query ? (v.query as { query?: string }).query : undefined;
      if (q) out.push({ dashboard: file, panel: `variable ${v.name}`, expr: q });
    }
  }
  return out;
}

const all = (re: RegExp, text: string) => [...text.matchAll(re)].map((m) => m[1]!);

const registry = new PluginRegistry();
registry.register(influxSink);

/** The influxdb sinks of the shipped pipeline, validated with defaults, by measurement. */
async function shippedSinks(): Promise<Map<string, InfluxSinkConfig>> {
  const config = await loadAndValidate(join(root, 'conf/kafka-influxdb.yaml'), { env: {}, registry });
  const out = new Map<string, InfluxSinkConfig>();
  for (const agent of Object.values(config.agents)) for (const sink of agent.sinks) if (sink.config.type === 'influxdb') out.set(sink.config.measurement as string, sink.config as unknown as InfluxSinkConfig);
  return out;
}

/** Grafana's InfluxQL macros, as Grafana expands them for the last hour. */
const expand = (q: string) => q.replaceAll('$timeFilter', 'time > now() - 1h').replaceAll('$__interval', '1m');

describe('Grafana dashboards', () => {
  const measurements = new Map<string, { tags: Set<string>; fields: Set<string> }>();
  const metricNames = new Set<string>();
  const labelNames = new Set<string>(['le']);

  beforeAll(async () => {
    // Measurements, tags and fields: from the shipped pipeline, validated with the influxdb sink registered.
    for (const [m, c] of await shippedSinks()) measurements.set(m, { tags: new Set(c.tags), fields: new Set(c.fields) });

    // Metric and label names: what a real registry exports, with every labelled series present at least once.
    const metrics = new MetricsRegistry(false);
    for (const kind of ['source', 'channel', 'sink', 'processor'] as ComponentKind[]) {
      const stats = metrics.component('a', `c_${kind}`, kind, kind === 'sink' ? 'influxdb' : 'x');
      stats.error('sending', 'e');
      stats.deadLettered('rejected-by-server');
      stats.droppedEvents('filtered');
      stats.eventAge.observe(1);
      if (kind === 'sink') influxSink.create({ url: 'http://127.0.0.1:1', api: 'v2', bucket: 'b', measurement: 'm', tags: [], fields: ['f'], integerFields: [], precision: 'ns', uniqueTimestamps: true, batchSize: 1, flushIntervalMs: 0, timeoutMs: 1000, gzip: false }, { ...testContext('sink', 'influxdb'), metrics: stats });
    }
    const text = await metrics.prometheus();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      metricNames.add(name!);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) metricNames.add(name + s);
    }
    for (const [, labels] of text.matchAll(/^\S+\{([^}]*)\}/gm)) for (const l of all(/(\w+)="/g, labels!)) labelNames.add(l);
  });

  it('the names come from the real sources', () => {
    expect([...measurements.keys()].sort()).toEqual(['finance_transaction_data', 'finance_volume', 'transactions_by_city']);
    for (const kind of Object.keys(STANDARD_METRICS) as ComponentKind[]) for (const m of STANDARD_METRICS[kind]) expect(metricNames).toContain(`fintrans_${kind}_${m.name}`);
    for (const n of ['fintrans_component_errors_total', 'fintrans_component_dead_letters_total', 'fintrans_component_event_age_seconds_bucket', 'fintrans_component_up', 'fintrans_sink_requests_total']) expect(metricNames).toContain(n);
    expect([...labelNames].sort()).toEqual(['agent', 'component', 'kind', 'le', 'reason', 'stage', 'type']);
  });

  it('there are two dashboards, each with queries', () => {
    const t = targets();
    expect(new Set(t.map((x) => x.dashboard))).toEqual(new Set(['fintrans-influxdb.json', 'fintrans-agent.json']));
    expect(t.filter((x) => x.query).length).toBeGreaterThanOrEqual(6);
    expect(t.filter((x) => x.expr).length).toBeGreaterThanOrEqual(8);
  });

  it('every InfluxQL query names measurements, fields and tags that the pipeline writes', () => {
    for (const t of targets().filter((x) => x.query)) {
      const where = `${t.dashboard} "${t.panel}"`;
      const q = t.query!;
      const from = all(/FROM\s+"([^"]+)"/g, q);
      expect(from.length, `${where} names a measurement`).toBeGreaterThan(0);
      for (const m of from) expect(measurements.has(m), `${where}: measurement ${m} is written by conf/kafka-influxdb.yaml`).toBe(true);
      const tags = new Set(from.flatMap((m) => [...measurements.get(m)!.tags]));
      const fields = new Set(from.flatMap((m) => [...measurements.get(m)!.fields]));
      const aggregated = all(/\b(?:sum|mean|count|min|max|last|first|median|spread|stddev|top|bottom)\(\s*"([^"]+)"/g, q);
      expect(aggregated.length, `${where} aggregates a field`).toBeGreaterThan(0);
      for (const f of aggregated) expect(fields.has(f), `${where}: ${f} is a field of ${from.join(', ')}`).toBe(true);
      // Every other quoted identifier is the measurement, an alias (AS "x"), or a tag (GROUP BY, WHERE).
      const aliases = new Set(all(/\bAS\s+"([^"]+)"/gi, q));
      for (const id of all(/"([^"]+)"/g, q)) {
        if (from.includes(id) || aliases.has(id) || aggregated.includes(id)) continue;
        expect(tags.has(id), `${where}: ${id} is a tag of ${from.join(', ')} (InfluxQL groups and filters by tags)`).toBe(true);
      }
    }
  });

  it('every PromQL query names metrics and labels that the agent exports', () => {
    for (const t of targets().filter((x) => x.expr)) {
      const where = `${t.dashboard} "${t.panel}"`;
      const names = all(/\b(fintrans_[a-z0-9_]+)/g, t.expr!);
      expect(names.length, `${where} names a metric`).toBeGreaterThan(0);
      for (const n of names) expect(metricNames.has(n), `${where}: ${n} is exported`).toBe(true);
      const labels = [...all(/\b(?:by|without)\s*\(([^)]*)\)/g, t.expr!).flatMap((l) => l.split(',').map((s) => s.trim()).filter(Boolean)), ...all(/[{,]\s*(\w+)\s*(?:=~|!~|!=|=)/g, t.expr!), ...all(/label_values\([^,]+,\s*(\w+)\)/g, t.expr!)];
      for (const l of labels) expect(labelNames.has(l), `${where}: label ${l} is exported`).toBe(true);
    }
  });

  it('panels use the import-time data sources, with unique ids', () => {
    for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as { uid: string; __inputs: { name: string }[]; panels: { id: number; datasource: { uid: string } }[] };
      const inputs = d.__inputs.map((i) => `\${${i.name}}`);
      expect(d.uid).toMatch(/^fintrans-/);
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      for (const p of d.panels) expect(inputs).toContain(p.datasource.uid);
    }
  });
});

// ------------------------------------------------------------------ the InfluxQL panels against real data

const servers = await ensureServers(['influxdb']);
const INFLUX = endpoints.influxdb.url;

async function influxql(db: string, q: string, method: 'GET' | 'POST' = 'GET') {
  const res = (await (await fetch(`${INFLUX}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`, { method })).json()) as {
    error?: string;
    results?: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  };
  const error = res.error ?? res.results?.[0]?.error;
  if (error) throw new Error(`${q}: ${error}`);
  return res.results?.[0]?.series ?? [];
}

describe.skipIf(!servers.ok)('Grafana InfluxQL panels on data written by the shipped sinks (InfluxDB 1.x)', () => {
  const db = `grafana_${Date.now().toString(36)}`;
  const d = tempDir('fta-grafana-');
  afterAll(async () => {
    cleanup(d);
    await influxql(db, `DROP DATABASE "${db}"`, 'POST').catch(() => undefined);
  });

  it('every panel query answers with the expected per-city and per-merchant volumes', async () => {
    await influxql(db, `CREATE DATABASE "${db}"`, 'POST');
    const now = Date.now();
    const cities = ['London', 'NYC', 'SF', 'Moscow', 'Tokyo'];
    const transfers = Array.from({ length: 1000 }, (_, i) => ({ city: cities[i % 5]!, source: String(i % 100), target: String((i * 3) % 100), amount: (i % 100) + 1, ts: now - 60_000 - Math.floor(i / 4) * 10 }));
    const finance = Array.from({ length: 600 }, (_, i) => ({
      transaction_id: `T${100000 + i}`, account_id: `A${200000 + i}`, transaction_type: ['deposit', 'withdrawal', 'transfer', 'payment'][i % 4]!, amount: 100 + i, currency: ['USD', 'EUR'][i % 2]!,
      transaction_date: new Date(now - 120_000 - i * 100).toISOString(), description: `tx ${i}`, branch: 'Main Street', customer_age: 30, customer_gender: 'Other', account_balance: 5000.5,
      transaction_channel: 'online', transaction_status: 'completed', merchant_id: i % 4 >= 2 ? `M${1000 + (i % 7)}` : null, location_city: ['New York', 'London', 'Tokyo'][i % 3]!, location_country: 'X',
    }));
    for (const [dir, records] of [['spool-fintrans', transfers], ['spool-finance', finance]] as const) {
      mkdirSync(join(d, dir), { recursive: true });
      writeFileSync(join(d, `.${dir}.json`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      renameSync(join(d, `.${dir}.json`), join(d, dir, 'part-1.json'));
    }
    // The shipped sinks' point settings, pointed at this InfluxDB through the v1 API.
    const sinks = await shippedSinks();
    const sink = (m: string, channel: string) => {
      const c = sinks.get(m)!;
      return JSON.stringify({ type: 'influxdb', channel, api: 'v1', url: INFLUX, db, measurement: m, tags: c.tags, fields: c.fields, integerFields: c.integerFields, timestampField: c.timestampField, precision: c.precision, uniqueTimestamps: c.uniqueTimestamps, batchSize: 500 });
    };
    const agent = await startAgent({
      registry,
      log: silentLogger(),
      metricsPort: false,
      conf: writeConfig(
        d,
        `agents:
  a:
    sources:
      fin: { type: spooldir, spoolDir: ./spool-finance, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [c1, c2] }
      city: { type: spooldir, spoolDir: ./spool-fintrans, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [c3] }
    channels: { c1: { type: memory }, c2: { type: memory }, c3: { type: memory } }
    sinks:
      raw: ${sink('finance_transaction_data', 'c1')}
      volume: ${sink('finance_volume', 'c2')}
      by_city: ${sink('transactions_by_city', 'c3')}
`,
      ),
    });
    await waitFor('all written', () => stat(agent, 'raw', 'events_drained_total') >= 600 && stat(agent, 'volume', 'events_drained_total') >= 600 && stat(agent, 'by_city', 'events_drained_total') >= 1000, 60_000);
    await agent.stop();

    const sum = <T>(rows: T[], key: (r: T) => string, value: (r: T) => number) => rows.reduce<Record<string, number>>((acc, r) => ((acc[key(r)] = (acc[key(r)] ?? 0) + value(r)), acc), {});
    const byPanel = new Map(targets().filter((t) => t.query).map((t) => [t.panel, t.query!]));
    for (const [panel, q] of byPanel) expect((await influxql(db, expand(q))).length, `${panel} returns series`).toBeGreaterThan(0);

    const perCity = await influxql(db, expand(byPanel.get('Total transaction volume per city')!));
    expect(Object.fromEntries(perCity.map((s) => [s.tags!.city, s.values[0]![1]]))).toEqual(sum(transfers, (r) => r.city, (r) => r.amount));
    const avgCity = await influxql(db, expand(byPanel.get('Average transaction amount per city')!));
    const counts = sum(transfers, (r) => r.city, () => 1);
    for (const s of avgCity) expect(s.values[0]![1]).toBeCloseTo(sum(transfers, (r) => r.city, (r) => r.amount)[s.tags!.city!]! / counts[s.tags!.city!]!, 9);
    const perMerchant = await influxql(db, expand(byPanel.get('Volume per merchant (top 10 by total)')!));
    const withMerchant = finance.filter((r) => r.merchant_id !== null);
    expect(Object.fromEntries(perMerchant.map((s) => [s.tags!.merchant_id, s.values[0]![s.columns.indexOf('total')]]))).toEqual(sum(withMerchant, (r) => r.merchant_id!, (r) => r.amount));
    const merchantCounts = sum(withMerchant, (r) => r.merchant_id!, () => 1);
    expect(Object.fromEntries(perMerchant.map((s) => [s.tags!.merchant_id, s.values[0]![s.columns.indexOf('transactions')]]))).toEqual(merchantCounts);
    for (const s of perMerchant) {
      const m = s.tags!.merchant_id!;
      expect(s.values[0]![s.columns.indexOf('average')]).toBeCloseTo(sum(withMerchant, (r) => r.merchant_id!, (r) => r.amount)[m]! / merchantCounts[m]!, 9);
    }
    const perType = await influxql(db, expand(byPanel.get('Transactions per type (seed 003 points)')!));
    expect(Object.fromEntries(perType.map((s) => [s.tags!.transaction_type, s.values[0]![1]]))).toEqual(sum(finance, (r) => r.transaction_type, () => 1));
  });
});

// ------------------------------------------------------------------ the PromQL panels parse in a real Prometheus

const prometheus = await ensureServers(['prometheus']);

describe.skipIf(!prometheus.ok)('Grafana PromQL panels (Prometheus 2.x)', () => {
  it('every expression is valid PromQL once Grafana has expanded its variables', async () => {
    const exprs = targets().filter((t) => t.expr && !t.expr.startsWith('label_values('));
    expect(exprs.length).toBeGreaterThan(0);
    for (const t of exprs) {
      const expr = t.expr!.replaceAll('$__rate_interval', '1m').replaceAll('$agent', '.*');
      const res = (await (await fetch(`${endpoints.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string };
      expect(res, `${t.dashboard} "${t.panel}": ${expr}`).toMatchObject({ status: 'success' });
    }
  });
});

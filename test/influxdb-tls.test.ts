/**
 * The influxdb sink over HTTPS against the harness's TLS-only InfluxDB 1.6 (servers/influxdb-tls.ts, certificate
 * from the test CA of servers/tls.ts). With `tls.caFile` the rows written are read back, over HTTPS too, exactly
 * as sent; without it the server certificate is refused (rejectUnauthorized defaults to true), every write fails
 * as transient with the certificate error, nothing reaches the database and the batch stays in the channel.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { INFLUXDB_TLS_DATABASE as DB, INFLUXDB_TLS_PORT, https } from '../servers/influxdb-tls.ts';
import { tlsFiles } from '../servers/tls.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { ensureServers } from './servers.ts';

const servers = await ensureServers(['influxdb-tls']);
const URL = `https://127.0.0.1:${INFLUXDB_TLS_PORT}`;

const dirs: string[] = [];
const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop();
  dirs.forEach(cleanup);
});
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;

/** An agent that spools `records` into a memory channel `c` drained by the influxdb sink `i` (extra keys in `sink`). */
async function run(records: object[], measurement: string, sink: string): Promise<RunningAgent> {
  const d = tempDir('fta-influx-tls-');
  dirs.push(d);
  mkdirSync(join(d, 'spool'));
  writeFileSync(join(d, '.in.json'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  renameSync(join(d, '.in.json'), join(d, 'spool', 'in.json'));
  const agent = await startAgent({
    conf: writeConfig(
      d,
      `agents:
  a:
    shutdownTimeout: 1s # an untrusted server never drains the channel: do not wait the default 30 s for it
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 1000, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: memory } }
    sinks:
      i: { type: influxdb, api: v1, channel: c, url: ${URL}, db: ${DB}, measurement: ${measurement}, tags: [account], fields: [amount, qty, note], integerFields: [qty], timestampField: ts, precision: ms, batchSize: 1000${sink} }
`,
    ),
    log: silentLogger(),
    metricsPort: false,
  });
  agents.push(agent);
  return agent;
}

/** InfluxQL over HTTPS, trusting the test CA; the rows of the first series (or none), times in epoch ms. */
async function select(q: string): Promise<unknown[][]> {
  const res = await https(INFLUXDB_TLS_PORT, `/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`);
  expect(res.status, res.body).toBe(200);
  const json = JSON.parse(res.body) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (json.results[0]!.error) throw new Error(`${q}: ${json.results[0]!.error}`);
  return json.results[0]!.series?.[0]?.values ?? [];
}

const T0 = Date.UTC(2024, 10, 3, 23, 0, 0);
const records = Array.from({ length: 600 }, (_, i) => ({
  account: `A${200000 + (i % 7)}`,
  amount: 100 + (i * 7919) % 490_000 / 100,
  qty: (i % 13) - 6,
  note: i % 10 === 7 ? `He said "pay", path C:\\tmp\\, a=b` : `tx ${i}`,
  ts: T0 + i,
}));

describe.skipIf(!servers.ok)('influxdb sink over HTTPS (real TLS-only InfluxDB 1.x)', () => {
  it('with tls.caFile, writes every point; read back over HTTPS, the rows equal the input', async () => {
    const measurement = unique('tls_rows');
    const agent = await run(records, measurement, `, tls: { caFile: ${JSON.stringify(tlsFiles.caCert)} }, gzip: true`);
    await waitFor('600 drained', () => stat(agent, 'i', 'events_drained_total') >= records.length, 60_000);
    expect(stat(agent, 'i', 'write_failures_total')).toBe(0);
    const rows = await select(`SELECT account, amount, qty, note FROM "${measurement}" ORDER BY time`);
    expect(rows).toEqual(records.map((r) => [r.ts, r.account, r.amount, r.qty, r.note]));
  });

  it('without the CA, refuses the server certificate: transient failures, nothing written, the batch kept in the channel', async () => {
    const measurement = unique('tls_untrusted');
    const agent = await run(records, measurement, '');
    await waitFor('two failed writes', () => stat(agent, 'i', 'write_failures_total') >= 2, 60_000);
    expect(stat(agent, 'i', 'events_drained_total')).toBe(0);
    expect(stat(agent, 'i', 'rollbacks_total')).toBeGreaterThanOrEqual(2 * records.length);
    expect(stat(agent, 'c', 'size')).toBe(records.length);
    const sink = agent.metrics.components.find((c) => c.name === 'i')!;
    expect([...sink.labelled.deadLetters.values()]).toEqual([]);
    expect(sink.lastError).toMatch(/certificate/);
    expect(sink.lastError).toMatch(/set tls\.caFile to the CA that signed it/);
    expect(await select(`SELECT count(amount) FROM "${measurement}"`)).toEqual([]);
  });
});

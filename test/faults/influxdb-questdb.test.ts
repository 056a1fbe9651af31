/**
 * Fault case 4 (time-series servers): QuestDB (through the influxdb sink's v2 API) and InfluxDB 1.x (v1 API) are
 * each stopped mid-stream and started again. One agent writes the same stream to both through two file channels;
 * each sink rolls back while its server is down, the other keeps writing, and each recovers. Every id is
 * reconciled in each server: QuestDB keeps a redelivered batch it had committed just before it stopped (counted
 * duplicates), InfluxDB overwrites it in place (same series and time).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log.ts';
import { startAgent } from '../../agent/run.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig } from '../helpers/pipeline.ts';
import { tcpOpen } from '../../servers/probe.ts';
import { endpoints, ensureServers } from '../servers.ts';
import { feedSpool } from './helpers/feed.ts';
import { startShared, stopShared } from './helpers/outage.ts';
import { expectReconciled, txIds } from './helpers/reconcile.ts';

const servers = await ensureServers(['questdb', 'influxdb']);
const QDB = endpoints.questdb.url;
const INFLUX = endpoints.influxdb.url;
const DB = endpoints.influxdb.database;
const FILES = 60;
const PER_FILE = 400;
const TOTAL = FILES * PER_FILE;
const BATCH = 1000;
const name = `faults_${Date.now().toString(36)}_${process.pid}`;
const dir = tempDir('fta-faults-influx-');
afterAll(async () => {
  cleanup(dir);
  if (!servers.ok) return;
  await qdb(`drop table if exists '${name}'`).catch(() => undefined);
  await fetch(`${INFLUX}/query?db=${DB}&q=${encodeURIComponent(`DROP MEASUREMENT "${name}"`)}`, { method: 'POST' }).catch(() => undefined);
});

async function qdb(sql: string): Promise<{ dataset?: unknown[][]; error?: string }> {
  return (await (await fetch(`${QDB}/exec?query=${encodeURIComponent(sql)}`)).json()) as { dataset?: unknown[][]; error?: string };
}

/** id → rows in QuestDB, once its WAL shows every id (or the timeout passed). */
async function questdbCounts(): Promise<Map<string, number>> {
  let distinct: unknown;
  await waitFor('QuestDB shows every id', async () => (distinct = (await qdb(`select count_distinct(transactionId) from '${name}'`)).dataset?.[0]?.[0]) === TOTAL, 60_000).catch(() => undefined);
  const r = await qdb(`select transactionId, count() from '${name}'`);
  if (r.error) throw new Error(`QuestDB: ${r.error} (distinct ids ${String(distinct)})`);
  return new Map(r.dataset!.map(([id, n]) => [id as string, n as number]));
}

/** id → points in InfluxDB (transactionId is a tag: one series per id). */
async function influxCounts(): Promise<Map<string, number>> {
  const q = `SELECT count(amount) FROM "${name}" GROUP BY transactionId`;
  const res = (await (await fetch(`${INFLUX}/query?db=${DB}&q=${encodeURIComponent(q)}`)).json()) as { results: { series?: { tags: { transactionId: string }; values: [string, number][] }[]; error?: string }[] };
  if (res.results[0]?.error) throw new Error(`InfluxDB: ${res.results[0].error}`);
  return new Map((res.results[0]?.series ?? []).map((s) => [s.tags.transactionId, s.values[0]![1]]));
}

describe.skipIf(!servers.ok)('QuestDB and InfluxDB stopped mid-stream (real servers)', () => {
  it('each sink rolls back while its server is down and recovers; every id in each server', async () => {
    const sink = `measurement: ${name}, tags: [transactionId, merchantId], fields: [amount], batchSize: ${BATCH}, timeoutMs: 3000`;
    const conf = writeConfig(
      dir,
      `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [cq, ci] } }
    channels:
      cq: { type: file, checkpointDir: ./cq/cp, dataDirs: [./cq/data], transactionCapacity: ${BATCH} }
      ci: { type: file, checkpointDir: ./ci/cp, dataDirs: [./ci/data], transactionCapacity: ${BATCH} }
    sinks:
      q: { type: influxdb, channel: cq, url: ${QDB}, bucket: b, ${sink} }
      i: { type: influxdb, channel: ci, api: v1, url: ${INFLUX}, db: ${DB}, ${sink} }
`,
    );
    mkdirSync(join(dir, 'spool'), { recursive: true }); // before the agent, so its source finds it at once
    const agent = await startAgent({ conf, log: silentLogger(), metricsPort: false });
    const s = (sinkName: string, metric: string) => stat(agent, sinkName, metric);
    const feed = feedSpool(join(dir, 'spool'), FILES, PER_FILE, 400);
    const notes: string[] = [];
    /** Stops the server until its sink has failed a write, then starts it again (always: servers are shared). */
    const outage = async (server: string, port: number, sinkName: string, other: string) => {
      const failures = s(sinkName, 'write_failures_total');
      const otherBefore = s(other, 'events_drained_total');
      const t0 = Date.now();
      await stopShared(server, port);
      try {
        await waitFor(`a failed write while ${server} is down`, () => s(sinkName, 'write_failures_total') > failures, 60_000);
        await waitFor(`the other sink writing while ${server} is down`, () => s(other, 'events_drained_total') > otherBefore || s(other, 'events_drained_total') >= TOTAL, 60_000);
      } finally {
        await startShared(server);
      }
      notes.push(`${server} down ${Date.now() - t0} ms`);
    };
    try {
      await waitFor('3000 in each', () => s('q', 'events_drained_total') >= 3000 && s('i', 'events_drained_total') >= 3000, 60_000);
      await outage('influxdb', 8086, 'i', 'q');
      const after = s('i', 'events_drained_total');
      await waitFor('InfluxDB written to again', () => s('i', 'events_drained_total') > after, 120_000);
      expect(s('q', 'events_drained_total')).toBeLessThan(TOTAL); // the next outage is mid-stream too
      await outage('questdb', 9000, 'q', 'i');
      await feed.done;
      await waitFor('every event written to both', () => s('q', 'events_drained_total') >= TOTAL && s('i', 'events_drained_total') >= TOTAL, 180_000).catch(async (error: Error) => {
        // Say where each sink stands, and whether its server is up at all (another test run may have stopped it).
        const where = await Promise.all([['q', 9000], ['i', 8086]].map(async ([k, port]) => {
          const c = agent.metrics.components.find((x) => x.name === k && x.kind === 'sink')!;
          return `${k}: ${c.get('events_drained_total')} written, server ${(await tcpOpen(port as number)) ? 'up' : 'DOWN'}, last error ${c.lastError}`;
        }));
        throw new Error(`${error.message}; ${where.join('; ')}`);
      });
    } finally {
      feed.stop();
      await agent.stop();
    }
    const failures = `${s('q', 'write_failures_total')} and ${s('i', 'write_failures_total')} failed writes`;
    expectReconciled('InfluxDB 1.x stopped and restarted', txIds(TOTAL), await influxCounts(), 0, notes[0]);
    expectReconciled('QuestDB stopped and restarted', txIds(TOTAL), await questdbCounts(), BATCH, `${notes[1]}; ${failures} (QuestDB, InfluxDB)`);
  }, 300_000);
});

/**
 * Fault case 4 (Elasticsearch): the real Elasticsearch refuses writes, and the agent recovers each time without
 * losing or dead-lettering anything. 429 comes from a small proxy in front of the real server
 * (helpers/es-proxy.ts): first whole _bulk requests, then half the items of every request. Then the index gets
 * the read-only blocks an operator (or the flood-stage disk watermark) sets: read_only_allow_delete, then
 * read_only; the sink rolls back, says how to clear the block, and delivers once it is cleared. Documents carry
 * their id (idField), so redelivery overwrites in place: the index ends with each id once, and the rewrites are
 * counted from the documents' versions.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log.ts';
import { startAgent } from '../../agent/run.ts';
import { cleanup, readLines, stat, tempDir, waitFor, writeConfig, writeSpoolFile } from '../helpers/pipeline.ts';
import { endpoints, ensureServers } from '../servers.ts';
import { startEsProxy } from './helpers/es-proxy.ts';
import { expectReconciled, tally, txIds } from './helpers/reconcile.ts';

const servers = await ensureServers(['elasticsearch']);
const ES = endpoints.elasticsearch.url;
const PER_PHASE = 1000;
const BATCH = 500;
const dir = tempDir('fta-faults-es-');
const index = `fta-faults-${process.pid}-${Date.now().toString(36)}`;
afterAll(async () => {
  cleanup(dir);
  if (servers.ok) await es('DELETE', `/${index}?ignore_unavailable=true`);
});

async function es(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${ES}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, ...(text ? JSON.parse(text) : {}) };
}

describe.skipIf(!servers.ok)('elasticsearch refusing writes (real server; 429 from a proxy in front of it)', () => {
  it('recovers from 429 (whole requests, then items) and from read-only index blocks; every id indexed once', async () => {
    const proxy = await startEsProxy(ES);
    const conf = writeConfig(
      dir,
      `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: ${BATCH}, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], transactionCapacity: 1000 }, dlq: { type: memory } }
    sinks:
      es: { type: elasticsearch, channel: c, nodes: ["${proxy.url}"], index: ${index}, idField: transactionId, batchSize: ${BATCH}, itemRetries: 2, retryBackoffMs: 20, requestTimeoutMs: 10000 }
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
`,
    );
    const agent = await startAgent({ conf, log: silentLogger(), metricsPort: false });
    const s = (metric: string) => stat(agent, 'es', metric);
    const lastError = () => agent.metrics.components.find((c) => c.name === 'es')!.lastError ?? '';
    let phase = 0;
    const spool = () => writeSpoolFile(join(dir, 'spool'), `phase-${phase}.jsonl`, phase++ * PER_PHASE, PER_PHASE);
    const delivered = (what: string) => waitFor(what, () => s('events_drained_total') >= phase * PER_PHASE, 60_000);
    /** While a fault holds: at least `n` more rolled-back batches, and nothing of the new file indexed. */
    const refusedTwice = async (what: string) => {
      const failures = s('write_failures_total');
      await waitFor(`${what}: two rolled-back batches`, () => s('write_failures_total') >= failures + 2, 60_000);
      expect(s('events_drained_total')).toBe((phase - 1) * PER_PHASE);
    };
    const log: string[] = [];
    try {
      spool();
      await delivered('the first file indexed');

      proxy.mode = 'reject';
      spool();
      await refusedTwice('429 on whole requests');
      expect(proxy.rejected.requests).toBeGreaterThanOrEqual(2);
      expect(lastError()).toMatch(/HTTP 429: es_rejected_execution_exception/);
      proxy.mode = 'pass';
      await delivered('indexed once the 429s stop');

      proxy.mode = 'reject-items';
      spool();
      await refusedTwice('429 on half the items');
      expect(s('items_retried_total')).toBeGreaterThan(0);
      expect(lastError()).toMatch(/documents still failed transiently after 2 retries \(first: 429 es_rejected_execution_exception/);
      proxy.mode = 'pass';
      await delivered('indexed once the item 429s stop');

      for (const block of ['read_only_allow_delete', 'read_only']) {
        expect((await es('PUT', `/${index}/_settings`, { [`index.blocks.${block}`]: true })).acknowledged).toBe(true);
        spool();
        await refusedTwice(`index.blocks.${block}`);
        expect(lastError()).toContain(`PUT ${index}/_settings {"index.blocks.${block}": null}`);
        expect((await es('PUT', `/${index}/_settings`, { [`index.blocks.${block}`]: null })).acknowledged).toBe(true);
        await delivered(`indexed once index.blocks.${block} is cleared`);
      }
      log.push(`${proxy.rejected.requests} requests and ${proxy.rejected.items} items answered 429, ${s('write_failures_total')} batches rolled back, ${s('items_retried_total')} items retried inside writes`);
    } finally {
      proxy.mode = 'pass';
      await agent.stop();
      await proxy.close();
    }
    expect(readLines(join(dir, 'dead'))).toEqual([]);
    await es('POST', `/${index}/_refresh`);
    const r = await es('GET', `/${index}/_search?size=10000&version=true&_source=transactionId&track_total_hits=true`);
    const hits = r.hits.hits as { _id: string; _version: number; _source: { transactionId: string } }[];
    expect(r.hits.total.value).toBe(hits.length);
    for (const h of hits) expect(h._id).toBe(h._source.transactionId);
    const rewrites = hits.reduce((n, h) => n + h._version - 1, 0);
    // Documents cannot be duplicated (their _id is the transaction id); redelivered ones were overwritten in place.
    expectReconciled('elasticsearch 429 + read-only blocks', txIds(phase * PER_PHASE), tally(hits.map((h) => h._source.transactionId)), 0, `${rewrites} documents overwritten by redelivery; ${log.join('')}`);
  });
});

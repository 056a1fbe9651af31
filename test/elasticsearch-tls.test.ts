/**
 * The elasticsearch sink over HTTPS with basic authentication, against the harness's Elasticsearch node with
 * security on (servers/elasticsearch-tls.ts): the node's certificate is verified against the test CA given as
 * tls.caFile and the `elastic` password comes from auth.passwordFile. What the sink indexed is read back over an
 * independent HTTPS client. A wrong password and an untrusted certificate must both fail as retriable errors that
 * leave the batch unacknowledged, and no password may appear in an error or in the agent's log.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Event } from '../agent/index.ts';
import { createLogger } from '../agent/log.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { testContext } from '../agent/testing/context.ts';
import esSink from '../plugins/sinks/elasticsearch.ts';
import { ELASTICSEARCH_TLS_PORT, elasticPasswordFile, esTlsRequest } from '../servers/elasticsearch-tls.ts';
import { tlsFiles } from '../servers/tls.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig, writeSpoolFile } from './helpers/pipeline.ts';
import { ensureServers } from './servers.ts';

const servers = await ensureServers(['elasticsearch-tls']);
const NODE = `https://127.0.0.1:${ELASTICSEARCH_TLS_PORT}`;
const N = 3000;
const RUN = `${process.pid}-${Date.now().toString(36)}`;

const dirs: string[] = [];
const indices: string[] = [];
afterAll(async () => {
  dirs.forEach(cleanup);
  if (servers.ok) for (const index of indices) await esTlsRequest('DELETE', `/${index}?ignore_unavailable=true`);
});
const index = (what: string) => {
  const name = `fta-test-tls-${what}-${RUN}`;
  indices.push(name);
  return name;
};
const dir = () => {
  const d = tempDir('fta-es-tls-');
  dirs.push(d);
  return d;
};

async function es(method: string, path: string): Promise<any> {
  const r = await esTlsRequest(method, path);
  if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
}

/** The `_id`s in `name`, sorted; a missing index has none. */
async function ids(name: string): Promise<string[]> {
  await es('POST', `/${name}/_refresh?ignore_unavailable=true`);
  const r = await es('GET', `/${name}/_search?ignore_unavailable=true&size=${N + 10}&_source=false&filter_path=hits.hits._id`);
  return ((r.hits?.hits ?? []) as { _id: string }[]).map((h) => h._id).sort();
}

/** Starts an agent spooldir → file channel → elasticsearch over HTTPS, recording every line it logs. */
async function startPipeline(d: string, sink: object, logged: string[]): Promise<RunningAgent> {
  writeSpoolFile(join(d, 'spool'), 'tx.json', 0, N);
  const conf = writeConfig(d, `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: file, transactionCapacity: 1000 } }
    sinks:
      es: ${JSON.stringify({ type: 'elasticsearch', channel: 'c', nodes: [NODE], batchSize: 1000, ...sink })}
    shutdownTimeout: 1s # a sink refused by the server never drains the channel: do not wait the default 30 s
`);
  const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString('utf8')), done()) });
  return startAgent({ conf, log: createLogger({ level: 'info', destination }), metricsPort: false });
}

/** The sink built directly (no agent), so a failed write's error object can be inspected. */
async function writeOnce(name: string, connection: object): Promise<unknown> {
  const config = {
    nodes: [NODE], index: name, idField: 'transactionId', opType: 'index', batchSize: 10, format: 'json', headers: [], timestampUnit: 'auto',
    timeZone: 'UTC', itemRetries: 0, retryBackoffMs: 1, concurrentRequests: 1, requestTimeoutMs: 10_000, maxRetries: 0, compression: false, ...connection,
  } as Parameters<typeof esSink.create>[0];
  const sink = await esSink.create(config, testContext('sink', 'elasticsearch'));
  await sink.start!();
  try {
    return await sink.write([Event.fromData({ transactionId: 'tx-0', amount: 1 })]).then(() => 'written', (e: unknown) => e);
  } finally {
    await sink.stop!();
  }
}

const expectedIds = Array.from({ length: N }, (_, i) => `tx-${i}`).sort();
const tls = { caFile: tlsFiles.caCert };
const auth = () => ({ username: 'elastic', passwordFile: elasticPasswordFile() });

describe.skipIf(!servers.ok)('elasticsearch sink over HTTPS with basic auth (real server, security on)', { timeout: 120_000 }, () => {
  it('indexes every event exactly once, trusting the CA from tls.caFile and the password from auth.passwordFile', async () => {
    const name = index('ok');
    const logged: string[] = [];
    const agent = await startPipeline(dir(), { index: name, idField: 'transactionId', auth: auth(), tls }, logged);
    try {
      await waitFor(`${N} events indexed over HTTPS`, () => stat(agent, 'es', 'events_drained_total') >= N, 90_000);
      expect(stat(agent, 'es', 'write_failures_total')).toBe(0);
    } finally {
      await agent.stop();
    }
    expect((await es('GET', `/${name}/_count`)).count).toBe(N);
    expect(await ids(name)).toEqual(expectedIds);
    const password = readFileSync(elasticPasswordFile(), 'utf8').trim();
    expect(logged.join('')).toContain('Elasticsearch sink ready');
    expect(logged.join('').includes(password), 'the password appears in the agent log').toBe(false);
  });

  it('a wrong password fails retriably with the 401, never echoes the password, and acknowledges nothing', async () => {
    const d = dir();
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(d, 'wrong.password'), `${wrong}\n`, { mode: 0o600 });
    const badAuth = { username: 'elastic', passwordFile: join(d, 'wrong.password') };

    const e = (await writeOnce(index('direct-401'), { auth: badAuth, tls })) as { retriable?: boolean; code?: string; message?: string };
    expect(e).toMatchObject({ retriable: true, code: 'FTA_ES_BLOCKED' });
    expect(e.message).toMatch(/HTTP 401: security_exception: unable to authenticate user \[elastic\]/);
    expect(e.message).toContain("Check the sink's auth");
    expect(e.message!.includes(wrong)).toBe(false);

    const name = index('401');
    const logged: string[] = [];
    const agent = await startPipeline(d, { index: name, idField: 'transactionId', auth: badAuth, tls }, logged);
    try {
      // Retried by the runner (the error is retriable), and every attempt rolled back.
      await waitFor('two failed writes', () => stat(agent, 'es', 'write_failures_total') >= 2, 60_000);
      expect(stat(agent, 'es', 'events_drained_total')).toBe(0);
      const lastError = agent.metrics.components.find((c) => c.name === 'es')!.lastError ?? '';
      expect(lastError).toMatch(/HTTP 401/);
      expect(lastError.includes(wrong)).toBe(false);
    } finally {
      await agent.stop();
    }
    expect(logged.join('')).toMatch(/HTTP 401/);
    expect(logged.join('').includes(wrong), 'the wrong password appears in the agent log').toBe(false);
    expect(await ids(name)).toEqual([]);
  });

  it('without tls.caFile the handshake fails (the test CA is not a system CA) as a retriable error, and nothing is indexed', async () => {
    const name = index('noca');
    const e = (await writeOnce(name, { auth: auth() })) as { retriable?: boolean; code?: string; message?: string };
    expect(e).toMatchObject({ retriable: true, code: 'FTA_ES_UNAVAILABLE' });
    expect(e.message).toMatch(/ConnectionError: .*certificate/);
    // With the CA the same write goes through: the failure above was the trust, not the server.
    expect(await writeOnce(name, { auth: auth(), tls })).toBe('written');
    expect(await ids(name)).toEqual(['tx-0']);
  });
});

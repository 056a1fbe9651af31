/**
 * The elasticsearch sink against the real Elasticsearch 8.19 started by the server harness: bad documents go to
 * dead letters with the server's reason while the good ones are indexed; redelivery never duplicates with
 * idField; a spooldir → file channel → elasticsearch pipeline indexes exactly its input; the index template is
 * installed and applied; a write block rolls batches back until an operator clears it, and nothing is lost.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { PluginRegistry } from '../agent/registry.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import esSink from '../plugins/sinks/elasticsearch.ts';
import { cleanup, readLines, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['elasticsearch']);
const ES = endpoints.elasticsearch.url;
const registry = new PluginRegistry();
registry.register(esSink);

const dirs: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  dirs.forEach(cleanup);
  if (!servers.ok) return;
  for (const p of prefixes) {
    await es('DELETE', `/${p}*`);
    await es('DELETE', `/_index_template/${p}*`);
  }
});
const dir = () => {
  const d = tempDir('fta-es-');
  dirs.push(d);
  return d;
};
let serial = 0;
/** A fresh lowercase index prefix per test, removed (with its templates) at the end. */
const prefix = (what: string) => {
  const p = `fta-test-${what}-${process.pid}-${Date.now().toString(36)}-${serial++}`;
  prefixes.push(p);
  return p;
};
const start = (conf: string, env?: NodeJS.ProcessEnv): Promise<RunningAgent> => startAgent({ conf, registry, env, log: silentLogger(), metricsPort: false });

async function es(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${ES}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, ...(text ? JSON.parse(text) : {}) };
}

async function count(index: string): Promise<number> {
  await es('POST', `/${index}/_refresh?allow_no_indices=true&ignore_unavailable=true`);
  const r = await es('GET', `/${index}/_count?allow_no_indices=true&ignore_unavailable=true`);
  return r.count as number;
}

const DAY = 86_400;
const T0 = 1_704_067_200; // 2024-01-01T00:00:00Z

/** Writes transactions from..from+n atomically into the spool dir; `line(i)` may override any of them. */
function spool(d: string, name: string, from: number, n: number, line?: (i: number) => string | undefined): void {
  const dirPath = join(d, 'spool');
  mkdirSync(dirPath, { recursive: true });
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
    lines.push(line?.(i) ?? JSON.stringify({ transactionId: `tx-${i}`, userId: `user_${i % 97}`, amount: (i % 1000) + 0.25, transactionTime: T0 + (i % 2) * DAY, merchantId: `merchant_${i % 50}`, group: i % 3 === 0 ? 'b' : 'a' }));
  }
  const tmp = join(d, `.${name}.part`);
  writeFileSync(tmp, `${lines.join('\n')}\n`);
  renameSync(tmp, join(dirPath, name));
}

const sinkYaml = (keys: string) => `{ type: elasticsearch, channel: c, nodes: ["${ES}"], ${keys} }`;
const pipeline = (sink: string, extra = '') => `agents:
  a:
    sources: { s: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [c] } }
    channels: { c: { type: file, transactionCapacity: 1000 }, dlq: { type: memory } }
    sinks:
      es: ${sink}
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
${extra}`;

// Waits inside a test are shorter than this, so a stuck pipeline fails with what it was waiting for.
describe.skipIf(!servers.ok)('elasticsearch sink (real server)', { timeout: 180_000 }, () => {
  it('indexes the good documents of a batch and dead-letters the bad ones with the server reason', async () => {
    const d = dir();
    const p = prefix('bad');
    const bad = new Set([3, 250, 251, 777]);
    spool(d, 'tx.jsonl', 0, 1000, (i) => (bad.has(i) ? JSON.stringify({ transactionId: `tx-${i}`, amount: 'not a number', transactionTime: T0 }) : i === 900 ? '{"amount":1}' : undefined));
    const agent = await start(writeConfig(d, pipeline(sinkYaml(`index: "${p}-%Y.%m.%d", idField: transactionId, timestampField: transactionTime, template: true, batchSize: 1000`))));
    await waitFor('all settled', () => stat(agent, 'es', 'events_drained_total') >= 995 && stat(agent, 'dead', 'events_drained_total') >= 5, 60_000);
    await agent.stop();
    expect(await count(`${p}-*`)).toBe(995);
    const dead = readLines(join(d, 'dead')).map((l) => JSON.parse(l) as { headers: Record<string, string>; body: { transactionId?: string } });
    const byId = new Map(dead.map((x) => [x.body.transactionId ?? '(none)', x.headers]));
    expect([...byId.keys()].sort()).toEqual(['(none)', 'tx-250', 'tx-251', 'tx-3', 'tx-777']);
    for (const i of bad) {
      expect(byId.get(`tx-${i}`)).toMatchObject({ 'dl.reason': 'rejected-by-server', 'dl.component': 'es' });
      expect(byId.get(`tx-${i}`)!['dl.detail']).toMatch(/^400 document_parsing_exception: .*failed to parse field \[amount\] of type \[double\]/);
    }
    expect(byId.get('(none)')).toMatchObject({ 'dl.reason': 'missing-id' });
  });

  it('creates the index template on start, and daily indices get its mapping', async () => {
    const d = dir();
    const p = prefix('tpl');
    spool(d, 'tx.jsonl', 0, 100);
    const agent = await start(writeConfig(d, pipeline(sinkYaml(`index: "${p}-%Y.%m.%d", idField: transactionId, timestampField: transactionTime, template: { settings: { number_of_replicas: 0 } }`))));
    await waitFor('100 indexed', () => stat(agent, 'es', 'events_drained_total') >= 100, 60_000);
    await agent.stop();
    const t = await es('GET', `/_index_template/${p}`);
    expect(t.index_templates).toHaveLength(1);
    expect(t.index_templates[0].index_template).toMatchObject({ index_patterns: [`${p}-*`], priority: 100 + p.length + 1, _meta: { managed_by: 'fintrans-agent' } });
    // transactionTime alternates between two days: one index per day, 50 documents each.
    expect(await count(`${p}-2024.01.01`)).toBe(50);
    expect(await count(`${p}-2024.01.02`)).toBe(50);
    const mapping = await es('GET', `/${p}-2024.01.01/_mapping`);
    const props = mapping[`${p}-2024.01.01`].mappings.properties;
    expect(props).toMatchObject({ transactionId: { type: 'keyword' }, userId: { type: 'keyword' }, amount: { type: 'double' }, transactionTime: { type: 'date', format: 'epoch_second' }, merchantId: { type: 'keyword' }, isInternational: { type: 'boolean' } });
    const settings = await es('GET', `/${p}-2024.01.01/_settings`);
    expect(settings[`${p}-2024.01.01`].settings.index.number_of_replicas).toBe('0');
  });

  it('leaves no duplicates when the same input is delivered again, with opType index and with opType create', async () => {
    const d = dir();
    const p = prefix('redeliver');
    const run = async (opType: string, file: string) => {
      spool(d, file, 0, 3000);
      const agent = await start(writeConfig(d, pipeline(sinkYaml(`index: ${p}, idField: transactionId, opType: ${opType}`))));
      await waitFor(`3000 written (${opType})`, () => stat(agent, 'es', 'events_drained_total') >= 3000, 60_000);
      await agent.stop();
      return agent;
    };
    await run('index', 'first.jsonl');
    expect(await count(p)).toBe(3000);
    await run('index', 'again.jsonl');
    expect(await count(p)).toBe(3000);
    const created = await run('create', 'third.jsonl');
    expect(await count(p)).toBe(3000);
    expect(stat(created, 'es', 'items_already_present_total')).toBe(3000);
    expect(readLines(join(d, 'dead'))).toEqual([]);
    const v = await es('GET', `/${p}/_doc/tx-42`);
    expect(v._version).toBe(2); // indexed twice, overwritten in place; the create run left it alone
  });

  it('spooldir → file channel → elasticsearch: the count in the index equals the input (12,000 events)', async () => {
    const d = dir();
    const p = prefix('count');
    for (let f = 0; f < 4; f++) spool(d, `tx-${f}.jsonl`, f * 3000, 3000);
    const agent = await start(writeConfig(d, pipeline(sinkYaml(`index: "${p}-%Y.%m.%d", idField: transactionId, timestampField: transactionTime, template: true, batchSize: 1000`))));
    await waitFor('12k indexed', () => stat(agent, 'es', 'events_drained_total') >= 12_000, 120_000);
    await agent.stop();
    expect(await count(`${p}-*`)).toBe(12_000);
    expect(readLines(join(d, 'dead'))).toEqual([]);
  });

  it('rolls back while an index has a write block, says how to clear it, and loses nothing once cleared', async () => {
    const d = dir();
    const p = prefix('block');
    expect((await es('PUT', `/${p}-b`)).status).toBe(200);
    expect((await es('PUT', `/${p}-b/_settings`, { 'index.blocks.write': true })).acknowledged).toBe(true);
    spool(d, 'tx.jsonl', 0, 3000);
    const agent = await start(writeConfig(d, pipeline(sinkYaml(`index: "${p}-%[group]", idField: transactionId, batchSize: 1000, itemRetries: 1, retryBackoffMs: 10`))));
    try {
      await waitFor('rolled back twice', () => stat(agent, 'es', 'write_failures_total') >= 2, 60_000);
      const s = agent.metrics.components.find((c) => c.name === 'es')!;
      expect(s.lastError).toMatch(/Elasticsearch refuses writes to index "fta-test-block-.*-b" \(403 cluster_block_exception: .*index write/);
      expect(s.lastError).toContain(`PUT ${p}-b/_settings {"index.blocks.write": null}`);
      expect(s.lastError).toMatch(/will be overwritten in place \(idField\)/);
      expect(await count(`${p}-b`)).toBe(0);
      expect(await count(`${p}-a`)).toBeGreaterThan(0); // indexed before each rollback, overwritten on redelivery
      expect(stat(agent, 'es', 'events_drained_total')).toBe(0);
      expect(readLines(join(d, 'dead'))).toEqual([]);
      // The operator clears the block: the rolled-back batches go through.
      expect((await es('PUT', `/${p}-b/_settings`, { 'index.blocks.write': null })).acknowledged).toBe(true);
      await waitFor('all indexed after the block is cleared', () => stat(agent, 'es', 'events_drained_total') >= 3000, 60_000);
    } finally {
      await agent.stop();
    }
    expect(await count(`${p}-a`)).toBe(2000);
    expect(await count(`${p}-b`)).toBe(1000);
    expect(readLines(join(d, 'dead'))).toEqual([]);
  });

  it('conf/logs-elasticsearch.yaml ships JSON agent logs and plain-text logs into the daily logs index', async () => {
    const d = dir();
    const day = '2001.02.03';
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
    // The agent's own pino lines, dated 2001-02-03 (so they land in an index of their own day), and a Kafka log.
    const pinoLines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ level: i % 50 ? 'info' : 'error', time: `2001-02-03T04:05:${String(i % 60).padStart(2, '0')}.000Z`, pid: 1, agent: 'agent', component: 'k', kind: 'sink', type: 'kafka', msg: `line ${i}` }));
    const kafkaLines = Array.from({ length: 50 }, (_, i) => `[2024-06-10 07:00:${String(i).padStart(2, '0')},123] INFO [KafkaServer id=1] started "${i}" (kafka.server.KafkaServer)`);
    for (const [sub, name, lines] of [['agent', 'agent-1.jsonl', pinoLines], ['other', 'server.log.1', kafkaLines]] as const) {
      mkdirSync(join(d, 'logs', sub), { recursive: true });
      writeFileSync(join(d, `.${name}`), `${lines.join('\n')}\n`);
      renameSync(join(d, `.${name}`), join(d, 'logs', sub, name));
    }
    prefixes.push('fintrans-logs'); // its indices and template are removed at the end
    const conf = resolve(import.meta.dirname, '../conf/logs-elasticsearch.yaml');
    const agent = await start(conf, { ES_NODES: ES, LOGS_DIR: join(d, 'logs'), DATA_DIR: join(d, 'data') });
    await waitFor('250 log lines', () => stat(agent, 'es_agent', 'events_drained_total') >= 200 && stat(agent, 'es_text', 'events_drained_total') >= 50, 60_000);
    await agent.stop();
    expect(await count(`fintrans-logs-${day}`)).toBe(200);
    const errors = await es('GET', `/fintrans-logs-${day}/_search?q=level:error&size=10&sort=@timestamp`);
    expect(errors.hits.total.value).toBe(4);
    expect(errors.hits.hits[0]._source).toMatchObject({ '@timestamp': '2001-02-03T04:05:00.000Z', basename: 'agent-1.jsonl', msg: 'line 0', level: 'error' });
    const text = await es('GET', `/fintrans-logs-${today}/_search?q=basename:server.log.1&size=1`);
    expect(text.hits.total.value).toBe(50);
    expect(text.hits.hits[0]._source.message).toMatch(/^\[2024-06-10 07:00:\d\d,123\] INFO \[KafkaServer id=1\] started "\d+"/);
    const mapping = await es('GET', `/fintrans-logs-${day}/_mapping`);
    expect(mapping[`fintrans-logs-${day}`].mappings.properties).toMatchObject({ level: { type: 'keyword' }, time: { type: 'date' }, '@timestamp': { type: 'date' }, msg: { type: 'text' } });
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/config/problems.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { Event } from '../../agent/event.ts';
import { PluginRegistry } from '../../agent/registry.ts';
import { testContext } from '../../agent/testing/context.ts';
import esSink from './elasticsearch.ts';

const registry = () => {
  const r = new PluginRegistry();
  r.register(esSink);
  return r;
};
const conf = (sink: string, nodes = '[http://127.0.0.1:9200]') => `agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: { es: { type: elasticsearch, channel: c, nodes: ${nodes}, ${sink} } }\n`;
async function problems(yaml: string): Promise<string> {
  try {
    await validateConfig(parseConfigText(yaml, '/tmp/es.yaml', {}), registry());
    return '';
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n');
  }
}

describe('elasticsearch sink configuration', () => {
  it('accepts the documented keys and fills the defaults', async () => {
    expect(await problems(conf('index: "fintrans-%Y.%m.%d", idField: transactionId, opType: create, template: true, timestampField: transactionTime'))).toBe('');
    const c = await validateConfig(parseConfigText(conf('index: fintrans'), '/tmp/es.yaml', {}), registry());
    expect(c.agents.a!.sinks.find((x) => x.name === 'es')!.config).toMatchObject({ opType: 'index', batchSize: 1000, format: 'json', timestampUnit: 'auto', timeZone: 'UTC', itemRetries: 3, maxRetries: 2, requestTimeoutMs: 30000 });
  });

  it('reports bad escapes, time zones, credentials and key combinations at their keys', async () => {
    expect(await problems(conf('index: "tx-%q"'))).toMatch(/unknown escape "%q"/);
    expect(await problems(conf('index: tx, timeZone: Mars/Olympus'))).toMatch(/unknown time zone "Mars\/Olympus"/);
    expect(await problems(conf('index: tx, auth: { username: elastic }'))).toMatch(/password or passwordFile is required with username/);
    expect(await problems(conf('index: tx, format: text, idField: id'))).toMatch(/idField needs format json/);
    expect(await problems(conf('index: "tx-%[region]", format: text'))).toMatch(/%\[field\] needs format json/);
    expect(await problems(conf('index: tx, format: text, addTimestamp: "@timestamp"'))).toMatch(/addTimestamp needs format json/);
    expect(await problems(conf('index: "%{tenant}-tx", template: true'))).toMatch(/template.patterns is required/);
    expect(await problems(conf('index: tx', '[127.0.0.1:9200]'))).toMatch(/must match pattern/);
    expect(await problems(conf('index: tx, opType: upsert'))).toMatch(/must be one of "index", "create"/);
  });

  it('declares its secrets', () => {
    expect(esSink.secrets).toEqual(['auth.apiKey', 'auth.password']);
  });
});

describe('elasticsearch sink without a server', () => {
  it('dead-letters events it cannot index before sending, and rolls back when the cluster is unreachable', async () => {
    const ctx = testContext('sink', 'elasticsearch');
    const sink = await esSink.create({ nodes: ['http://127.0.0.1:1'], index: 'tx-%{h}', idField: 'id', opType: 'index', batchSize: 10, format: 'json', headers: [], timestampUnit: 'auto', timeZone: 'UTC', itemRetries: 0, retryBackoffMs: 1, concurrentRequests: 2, requestTimeoutMs: 2000, maxRetries: 0, compression: false }, ctx);
    await sink.start!();
    try {
      const onlyBad = await sink.write([Event.fromData({ id: 1 }), Event.fromData({}, { h: 'x' })]);
      expect(onlyBad!.rejected!.map((r) => r.reason)).toEqual(['invalid-index', 'missing-id']);
      const e = await sink.write([Event.fromData({ id: 1 }, { h: 'x' })]).catch((x: unknown) => x);
      expect(e).toMatchObject({ retriable: true, code: 'FTA_ES_UNAVAILABLE' });
      expect(ctx.stats.get('bulk_requests_total')).toBe(1);
    } finally {
      await sink.stop!();
    }
  });
});

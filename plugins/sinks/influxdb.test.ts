import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/config/problems.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { AgentError, Event } from '../../agent/index.ts';
import { PluginRegistry } from '../../agent/registry.ts';
import { testContext } from '../../agent/testing/context.ts';
import type { Sink } from '../../agent/types.ts';
import influxSink, { type InfluxSinkConfig } from './influxdb.ts';

const registry = new PluginRegistry();
registry.register(influxSink);

const conf = (sink: string) => `agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: { i: { type: influxdb, channel: c, url: "http://127.0.0.1:8086", ${sink} } }\n`;
async function problems(yaml: string): Promise<string> {
  try {
    await validateConfig(parseConfigText(yaml, '/tmp/i.yaml', { INFLUX_TOKEN: 'tok-from-env', INFLUX_PASSWORD: 'pw-from-env' }), registry);
    return '';
  } catch (e) {
    return (e as ConfigError).problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n');
  }
}

describe('influxdb sink configuration', () => {
  it('accepts the v2 and v1 shapes', async () => {
    expect(await problems(conf('bucket: b, org: o, token: "${INFLUX_TOKEN}", measurement: m, fields: [amount]'))).toBe('');
    expect(await problems(conf('api: v1, db: fintrans, rp: autogen, username: u, password: "${INFLUX_PASSWORD}", measurementField: kind, tags: [city], fields: [amount], integerFields: [amount]'))).toBe('');
  });

  it('refuses a credential written into the file, at its key, and says where to put it instead', async () => {
    const p = await problems(conf('bucket: b, org: o, token: literal-token, measurement: m, fields: [amount]'));
    expect(p).toMatch(/^4:\d+ a credential must not be written into the configuration file: give it from the environment \(token: "\$\{MY_SECRET\}"\) or put it in a file and use tokenFile\.$/);
    expect(p).not.toContain('literal-token');
  });

  it('reports every cross-key mistake at once', async () => {
    const p = await problems(conf('bucket: b, db: d, fields: [amount, city, time], tags: [city], integerFields: [age], token: t, tokenFile: f'));
    expect(p).toMatch(/give exactly one of measurement .* and measurementField/);
    expect(p).toMatch(/db is an api: v1 key/);
    expect(p).toMatch(/city is both a tag and a field/);
    expect(p).toMatch(/time is reserved/);
    expect(p).toMatch(/integerFields lists age, which is not in fields/);
    expect(p).toMatch(/give token or tokenFile, not both/);
    expect(await problems(conf('api: v1, measurement: m, fields: [f], bucket: b'))).toMatch(/api v1 needs db[\s\S]*bucket is an api: v2 key/);
    expect(await problems(conf('measurement: m, fields: [f]'))).toMatch(/api v2 needs bucket/);
    expect(await problems(conf('bucket: b, measurement: m, fields: []'))).toMatch(/must NOT have fewer than 1 items/);
  });

  it('refuses credentials or a query in the url', async () => {
    const yaml = conf('bucket: b, measurement: m, fields: [f]');
    expect(await problems(yaml.replace('http://127.0.0.1:8086', 'http://u:pw@127.0.0.1:8086'))).toMatch(/must not carry credentials/);
    expect(await problems(yaml.replace('http://127.0.0.1:8086', 'http://127.0.0.1:8086/api/v2/write?bucket=b'))).toMatch(/without a query/);
    expect(await problems(yaml.replace('http://127.0.0.1:8086', 'ftp://127.0.0.1'))).toMatch(/http:\/\/ or https:\/\//);
  });

  it('takes a tls block for an https url, and refuses one that could not be used', async () => {
    const yaml = (tls: string) => conf(`bucket: b, measurement: m, fields: [f], tls: ${tls}`);
    const https = (y: string) => y.replace('http://127.0.0.1:8086', 'https://127.0.0.1:8086');
    expect(await problems(https(yaml('{ caFile: ca.pem, certFile: c.pem, keyFile: c.key }')))).toBe('');
    expect(await problems(https(yaml('{ certFile: c.pem }')))).toMatch(/certFile and keyFile go together/);
    expect(await problems(https(yaml('{ ca: inline }')))).toMatch(/unknown key "ca". Valid keys: caFile, certFile, keyFile, rejectUnauthorized/);
    expect(await problems(yaml('{ caFile: ca.pem }'))).toMatch(/tls is set but url is http:\/\/: use an https:\/\/ url, or remove tls/);
  });
});

// ------------------------------------------------------------------ write semantics against a stand-in server

/** Behaves like QuestDB (a request with a bad line is refused whole) or InfluxDB (the good lines are kept). */
let mode: 'whole' | 'partial' = 'whole';
const stored: string[] = [];
const requests: { url: string; auth: string | undefined }[] = [];
const scripted: { status: number; headers?: Record<string, string> }[] = [];
let server: Server;
let url = '';
const dir = mkdtempSync(join(tmpdir(), 'fta-influx-unit-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ url: req.url!, auth: req.headers.authorization });
      const s = scripted.shift();
      if (s) return void (res.writeHead(s.status, s.headers), res.end('{"message":"scripted"}'));
      const lines = body.split('\n').filter(Boolean);
      const bad = lines.filter((l) => l.includes('amount="'));
      if (bad.length === 0 || mode === 'partial') stored.push(...lines.filter((l) => !bad.includes(l)));
      if (bad.length === 0) return void (res.writeHead(204), res.end());
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `field type conflict: amount is string, already exists as float dropped=${bad.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const base: InfluxSinkConfig = { url: '', api: 'v2', bucket: 'b', org: 'o', measurement: 'tx', tags: ['city'], fields: ['amount'], integerFields: [], timestampField: 'ts', precision: 'ms', uniqueTimestamps: true, batchSize: 1000, flushIntervalMs: 0, timeoutMs: 5000, gzip: false };
const make = (c: Partial<InfluxSinkConfig> = {}, ctx = testContext('sink', 'influxdb', { configDir: dir })) => influxSink.create({ ...base, url, ...c }, ctx) as Sink;
const events = (n: number, bad: number[] = []) => Array.from({ length: n }, (_, i) => Event.fromData({ city: `c${i % 3}`, amount: bad.includes(i) ? 'oops' : i, ts: 1_700_000_000_000 + i }));
const reset = () => ((stored.length = 0), (requests.length = 0), (scripted.length = 0));

describe('influxdb sink writes', () => {
  it('writes a batch with one request, with the token read from tokenFile', async () => {
    reset();
    writeFileSync(join(dir, 'token'), 'file-token\n');
    const result = await make({ tokenFile: 'token' }).write(events(50));
    expect(result).toEqual({ rejected: [] });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.auth).toBe('Token file-token');
    expect(stored).toHaveLength(50);
  });

  for (const m of ['whole', 'partial'] as const) {
    it(`isolates refused points by splitting the batch (server refuses ${m === 'whole' ? 'the whole request, like QuestDB' : 'only the bad points, like InfluxDB'})`, async () => {
      reset();
      mode = m;
      const batch = events(100, [7, 62]);
      const result = (await make().write(batch))!;
      expect(result.rejected!.map((r) => batch.indexOf(r.event))).toEqual([7, 62]);
      expect(result.rejected![0]).toMatchObject({ reason: 'rejected-by-server', detail: expect.stringMatching(/^HTTP 400: field type conflict/) });
      // Every good point arrived (InfluxDB may receive some twice; the explicit times make the copies overwrite).
      expect(new Set(stored).size).toBe(98);
      expect(stored.some((l) => l.includes('"oops"'))).toBe(false);
    });
  }

  it('dead-letters events that cannot be points without sending them; sends nothing when none is left', async () => {
    reset();
    const result = (await make().write([Event.fromData({ city: 'x', ts: 1 }), Event.fromText('not json')]))!;
    expect(result.rejected!.map((r) => r.reason)).toEqual(['no-fields', 'malformed-json']);
    expect(requests).toHaveLength(0);
  });

  it('rolls back on 5xx, and after a 429 with Retry-After sends nothing until it has passed', async () => {
    reset();
    const sink = make();
    scripted.push({ status: 503 });
    const e1 = await sink.write(events(3)).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AgentError);
    expect((e1 as AgentError).retriable).toBe(true);
    scripted.push({ status: 429, headers: { 'Retry-After': '3600' } });
    const e2 = (await sink.write(events(3)).catch((e: unknown) => e)) as AgentError;
    expect(e2.message).toMatch(/HTTP 429.*Retry-After/);
    const e3 = (await sink.write(events(3)).catch((e: unknown) => e)) as AgentError;
    expect(e3.retriable).toBe(true);
    expect(e3.message).toMatch(/nothing sent/);
    expect(requests).toHaveLength(2);
  });

  it('with flushIntervalMs, holds a partial batch until the interval has passed, but never a full one', async () => {
    reset();
    const ctx = testContext('sink', 'influxdb', { configDir: dir });
    const sink = make({ flushIntervalMs: 3_600_000, batchSize: 10 }, ctx);
    await sink.write(events(10));
    await sink.write(events(10));
    expect(requests).toHaveLength(2);
    let done = false;
    const held = sink.write(events(4)).then(() => (done = true), () => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    expect(requests).toHaveLength(2);
    ctx.controller.abort(); // the agent stopping ends the wait
    await held;
  });
});

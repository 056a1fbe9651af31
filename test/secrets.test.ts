/**
 * The planted-secret test (issue 9, security): unique secrets go into the environment variables and *File files
 * that the influxdb, elasticsearch and kafka (SASL) sinks and the metrics endpoint read their credentials from.
 * Then everything a user or an operator can see is collected: `validate` output (valid and invalid configs, a
 * wrong-typed value next to a secret), the logs of a running agent whose sinks fail against unreachable servers
 * and against a server that echoes the credentials it was sent, /status, /metrics and /health, and the output of a
 * failed start. No secret may appear in any of it. Also: the metrics endpoint binds loopback by default and
 * refuses requests without the bearer token when one is set.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '..', 'bin', 'fintrans-agent.js');
const TAG = `s3cr3t-${randomBytes(6).toString('hex')}`;
/** One distinct secret per credential, all sharing TAG, so a leak is found and named. */
const SECRETS = {
  FTA_T_INFLUX_TOKEN: `${TAG}-influx-token`,
  FTA_T_INFLUX_PASSWORD: `${TAG}-influx-password`,
  FTA_T_ES_APIKEY: `${TAG}-es-apikey`,
  FTA_T_ES_PASSWORD: `${TAG}-es-password`,
  FTA_T_KAFKA_PASSWORD: `${TAG}-kafka-password`,
  FTA_T_METRICS_TOKEN: `${TAG}-metrics-token`,
};
const FILE_SECRETS = { influxToken: `${TAG}-file-influx-token`, esPassword: `${TAG}-file-es-password`, kafkaPassword: `${TAG}-file-kafka-password` };

let dir: string;
/** Every byte any check saw, by where it came from. */
const seen: { where: string; text: string }[] = [];
const record = (where: string, text: string) => seen.push({ where, text });
/** Each secret as it may travel: raw, URL-encoded, base64, and inside an HTTP Basic credential of the users here. */
const NEEDLES = [...Object.values(SECRETS), ...Object.values(FILE_SECRETS)].flatMap((v) => [
  v,
  encodeURIComponent(v),
  Buffer.from(v).toString('base64'),
  ...['u', 'elastic'].map((user) => Buffer.from(`${user}:${v}`).toString('base64')),
]);
NEEDLES.push(TAG);
const leaks = () =>
  seen.flatMap((s) =>
    NEEDLES.filter((n) => s.text.includes(n)).map((n) => `${s.where}: …${s.text.slice(Math.max(0, s.text.indexOf(n) - 160), s.text.indexOf(n) + n.length + 20)}…`),
  );
afterEach(() => {
  expect(leaks()).toEqual([]);
});

/** An HTTP server that refuses everything and repeats the credentials it received, as a careless server might. */
let echo: Server;
let echoUrl: string;
let closedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fta-secrets-'));
  writeFileSync(join(dir, 'influx.token'), `${FILE_SECRETS.influxToken}\n`);
  writeFileSync(join(dir, 'es.password'), `${FILE_SECRETS.esPassword}\n`);
  writeFileSync(join(dir, 'kafka.password'), `${FILE_SECRETS.kafkaPassword}\n`);
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const said = `unauthorized: you sent authorization=${req.headers.authorization ?? ''} url=${req.url} body=${body.slice(0, 200)}`.replace(/[^\x20-\x7e]/g, ' ');
      res.writeHead(401, { 'content-type': 'application/json', 'x-influxdb-error': said, 'www-authenticate': 'Basic' });
      res.end(JSON.stringify({ error: { type: 'security_exception', reason: said }, message: said, status: 401 }));
    });
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  closedPort = (probe.address() as { port: number }).port;
  probe.close();
});

afterAll(async () => {
  echo?.closeAllConnections();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...SECRETS, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      record(`${args.join(' ')} stdout`, stdout);
      record(`${args.join(' ')} stderr`, stderr);
      done({ status, stdout, stderr });
    });
  });
}

/** The sinks under test, each with its credentials from ${ENV} or a *File key, pointed at `url` (HTTP) / `broker`. */
function sinks(url: string, broker: string, extra = ''): string {
  return `
      influx2: { type: influxdb, channel: c1, url: "${url}", org: o, bucket: b, measurement: m, fields: [amount], token: \${FTA_T_INFLUX_TOKEN}, timeoutMs: 500${extra} }
      influx2f: { type: influxdb, channel: c2, url: "${url}", org: o, bucket: b, measurement: m, fields: [amount], tokenFile: influx.token, timeoutMs: 500 }
      influx1: { type: influxdb, channel: c3, api: v1, url: "${url}", db: d, username: u, password: \${FTA_T_INFLUX_PASSWORD}, measurement: m, fields: [amount], timeoutMs: 500 }
      es_key: { type: elasticsearch, channel: c4, nodes: ["${url}"], index: idx, auth: { apiKey: \${FTA_T_ES_APIKEY} }, requestTimeoutMs: 500, maxRetries: 0 }
      es_basic: { type: elasticsearch, channel: c5, nodes: ["${url}"], index: idx, auth: { username: elastic, password: \${FTA_T_ES_PASSWORD} }, requestTimeoutMs: 500, maxRetries: 0 }
      es_file: { type: elasticsearch, channel: c6, nodes: ["${url}"], index: idx, auth: { username: elastic, passwordFile: es.password }, requestTimeoutMs: 500, maxRetries: 0 }
      kafka: { type: kafka, channel: c7, bootstrapServers: ["${broker}"], topic: t, sasl: { mechanism: plain, username: u, password: \${FTA_T_KAFKA_PASSWORD} }, connectionTimeoutMs: 300, requestTimeoutMs: 1000 }
      kafka_scram: { type: kafka, channel: c8, bootstrapServers: ["${broker}"], topic: t, sasl: { mechanism: scram-sha-512, username: u, passwordFile: kafka.password }, connectionTimeoutMs: 300, requestTimeoutMs: 1000 }`;
}

function config(url: string, broker: string, o: { metrics?: string; extra?: string } = {}): string {
  const channels = Array.from({ length: 8 }, (_, i) => `c${i + 1}`);
  return `metrics: ${o.metrics ?? '{ port: 0, token: ${FTA_T_METRICS_TOKEN} }'}
logLevel: debug
agents:
  a:
    shutdownTimeout: 1
    sources:
      gen: { type: generator, rate: 20, batchSize: 5, channels: [${channels.join(', ')}] }
    channels:
${channels.map((c) => `      ${c}: { type: memory }`).join('\n')}
    sinks:${sinks(url, broker, o.extra)}
`;
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the agent as users do, until every sink logged a failure; returns its output and what HTTP showed. */
async function runAgent(file: string, port: number, check: (get: (path: string, token?: string) => Promise<Response>) => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [BIN, '--conf', file], { cwd: dir, env: { ...process.env, ...SECRETS, FTA_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor('every sink to log a failure', () => ['influx2', 'influx2f', 'influx1', 'es_key', 'es_basic', 'es_file', 'kafka', 'kafka_scram'].every((s) => new RegExp(`"component":"${s}"[^\\n]*"level":"(warn|error)"|"level":"(warn|error)"[^\\n]*"component":"${s}"`).test(out)));
    const get = (path: string, token?: string) => fetch(`http://127.0.0.1:${port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    await check(get);
  } finally {
    child.kill('SIGTERM');
    await exited;
    record(`agent ${file} output`, out);
  }
  return out;
}

const freePort = async () => {
  const s = createTcpServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
};

describe('a planted secret never shows', () => {
  it('validate: a valid config prints no credential', async () => {
    const r = await cli(['validate', '--conf', write('valid.yaml', config(echoUrl, '127.0.0.1:9'))]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('validate: problems next to secrets, in secret keys and around them never echo them', async () => {
    const bad = `metrics: { port: "x", token: \${FTA_T_METRICS_TOKEN}, tokn: \${FTA_T_METRICS_TOKEN} }
agents:
  a:
    sources:
      gen: { type: generator, channels: [c1, c2, c3, c4, c5] }
    channels: { c1: { type: memory }, c2: { type: memory }, c3: { type: memory }, c4: { type: memory }, c5: { type: memory } }
    sinks:
      influx: { type: influxdb, channel: c1, url: "http://u:\${FTA_T_INFLUX_PASSWORD}@127.0.0.1:8086", org: o, bucket: b, measurement: m, fields: [amount], token: \${FTA_T_INFLUX_TOKEN}, batchSize: many, tokenFile: influx.token }
      es: { type: elasticsearch, channel: c2, nodes: [http://127.0.0.1:9200], index: idx, auth: { apiKey: \${FTA_T_ES_APIKEY}, password: \${FTA_T_ES_PASSWORD}, user: x }, opType: \${FTA_T_ES_PASSWORD} }
      kafka: { type: kafka, channel: c3, bootstrapServers: [h:9092], topic: t, sasl: { mechanism: \${FTA_T_KAFKA_PASSWORD}, username: u, password: \${FTA_T_KAFKA_PASSWORD}, passwrd: \${FTA_T_KAFKA_PASSWORD} } }
      kafka2: { type: kafka, channel: c4, bootstrapServers: [h:9092], topic: t, sasl: \${FTA_T_KAFKA_PASSWORD} }
      "bad name": { type: influxdb, channel: c5, url: "http://127.0.0.1:8086", bucket: b, measurement: m, fields: [amount], token: \${FTA_T_INFLUX_TOKEN} }
      wrong: { type: null, channel: \${FTA_T_ES_APIKEY} }
`;
    const r = await cli(['validate', '--conf', write('invalid.yaml', bad)]);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The problems are still reported, each where it is, only without the values.
    for (const expected of [
      /invalid\.yaml:1:\d+ metrics\.port: must be integer, got "x"/,
      /invalid\.yaml:1:\d+ metrics\.tokn: unknown key "tokn"; did you mean "token"\?/,
      /invalid\.yaml:8:\d+ agents\.a\.sinks\.influx\.batchSize: must be integer, got "many"/,
      /invalid\.yaml:9:\d+ agents\.a\.sinks\.es\.auth\.user: unknown key "user"/,
      // A value from the environment is shown as the reference it came from, whatever key it landed in.
      /invalid\.yaml:9:\d+ agents\.a\.sinks\.es\.opType: must be one of "index", "create"; got \$\{FTA_T_ES_PASSWORD\}\./,
      /invalid\.yaml:10:\d+ agents\.a\.sinks\.kafka\.sasl\.mechanism: must be one of .*; got \$\{FTA_T_KAFKA_PASSWORD\}\./,
      /invalid\.yaml:10:\d+ agents\.a\.sinks\.kafka\.sasl\.passwrd: unknown key "passwrd"; did you mean "password"\?/,
      /invalid\.yaml:11:\d+ agents\.a\.sinks\.kafka2\.sasl: must be object, got \$\{FTA_T_KAFKA_PASSWORD\}\./,
      /invalid\.yaml:12:\d+ agents\.a\.sinks\.bad name: invalid name "bad name"/,
      /invalid\.yaml:13:\d+ agents\.a\.sinks\.wrong\.channel: channel "\$\{FTA_T_ES_APIKEY\}" is not defined/,
    ]) expect(r.stderr).toMatch(expected);
  });

  it('run: a config error at start prints no credential', async () => {
    const r = await cli(['--conf', write('start-invalid.yaml', config(echoUrl, '127.0.0.1:9', { metrics: '{ port: 0, token: ${FTA_T_METRICS_TOKEN} }', extra: ', gzip: ${FTA_T_INFLUX_TOKEN}' }))]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/agents\.a\.sinks\.influx2\.gzip: must be boolean, got \$\{FTA_T_INFLUX_TOKEN\}\./);
  });

  it('run: sinks failing against unreachable servers and a server that echoes credentials log errors, never the secrets; /status, /metrics and /health neither', async () => {
    for (const [name, url] of [['unreachable', `http://127.0.0.1:${closedPort}`], ['echoing', echoUrl]] as const) {
      const port = await freePort();
      const file = write(`${name}.yaml`, config(url, `127.0.0.1:${closedPort}`, { metrics: `{ port: ${port}, token: \${FTA_T_METRICS_TOKEN} }` }));
      const out = await runAgent(file, port, async (get) => {
        for (const path of ['/status', '/metrics', '/health', '/nope']) {
          const res = await get(path, SECRETS.FTA_T_METRICS_TOKEN);
          const body = await res.text();
          record(`${name} GET ${path} (${res.status})`, `${JSON.stringify([...res.headers])}\n${body}`);
          expect(res.status, path).toBe(path === '/nope' ? 404 : path === '/health' ? res.status : 200);
        }
        const status = (await (await get('/status', SECRETS.FTA_T_METRICS_TOKEN)).json()) as Record<string, Record<string, string>>;
        // The failures are visible, only without the credentials.
        expect(Object.values(status).some((s) => s.LastError !== undefined)).toBe(true);
        record(`${name} /status LastErrors`, JSON.stringify(Object.values(status).map((s) => s.LastError)));
      });
      expect(out).toMatch(/"level":"(warn|error)"/);
      if (name === 'echoing') {
        // The server's reply, credentials included, did reach the logs: only scrubbed.
        expect(out).toMatch(/authorization=(Basic|ApiKey) /);
      }
    }
  });
});

describe('the metrics endpoint', () => {
  it('refuses requests without the bearer token (401) and with a wrong one, and binds loopback by default', async () => {
    const port = await freePort();
    const file = write('metrics.yaml', config(`http://127.0.0.1:${closedPort}`, `127.0.0.1:${closedPort}`, { metrics: `{ port: ${port}, token: \${FTA_T_METRICS_TOKEN} }` }));
    await runAgent(file, port, async (get) => {
      for (const path of ['/metrics', '/status', '/health', '/']) {
        for (const token of [undefined, 'wrong', `${SECRETS.FTA_T_METRICS_TOKEN}x`, SECRETS.FTA_T_METRICS_TOKEN.slice(0, -1)]) {
          const res = await get(path, token);
          const body = await res.text();
          record(`GET ${path} token=${token === undefined ? 'none' : 'wrong'}`, body);
          expect(res.status, `${path} with ${token ?? 'no token'}`).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Bearer');
          expect(body).not.toContain('fintrans_');
        }
      }
      expect((await get('/metrics', SECRETS.FTA_T_METRICS_TOKEN)).status).toBe(200);
      // Not reachable on any other address of this machine: it listens on 127.0.0.1 only.
      const others = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
      for (const address of others) {
        const error = await fetch(`http://${address}:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).then(() => undefined, (e: Error) => e);
        expect(error, `reachable on ${address}`).toBeInstanceOf(Error);
      }
    });
  });
});

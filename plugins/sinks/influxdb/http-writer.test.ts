import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { classify, HttpWriter, parseRetryAfter, serverMessage, WriteFailure, type WriterConfig } from './http-writer.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in server: records each request and answers with the next scripted reply (204 when none is left). */
let server: Server;
let base = '';
const seen: Seen[] = [];
const replies: { status: number; body?: string; headers?: Record<string, string>; hang?: boolean; cut?: boolean }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8') });
      const r = replies.shift() ?? { status: 204 };
      if (r.hang) return;
      if (r.cut) {
        // Promises a body, sends part of it, and drops the connection.
        res.writeHead(r.status, { 'Content-Length': '100' });
        res.write('{"mess', () => res.socket?.destroy());
        return;
      }
      res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const v2 = (c: Partial<WriterConfig> = {}) => new HttpWriter({ api: 'v2', url: `${base}/`, precision: 'ns', gzip: false, timeoutMs: 5000, token: 's3cr3t-token', org: 'my org', bucket: 'kafka-finance', ...c });
const v1 = (c: Partial<WriterConfig> = {}) => new HttpWriter({ api: 'v1', url: base, precision: 'us', gzip: false, timeoutMs: 5000, db: 'fintrans', ...c });

async function failure(p: Promise<unknown>): Promise<WriteFailure> {
  const e = await p.then(() => undefined, (e: unknown) => e);
  expect(e).toBeInstanceOf(WriteFailure);
  return e as WriteFailure;
}

describe('HttpWriter requests', () => {
  it('v2: POST /api/v2/write with org, bucket, precision and the token in a header only', async () => {
    seen.length = 0;
    await v2().write('m f=1 1\n');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v2/write?org=my+org&bucket=kafka-finance&precision=ns', body: 'm f=1 1\n' });
    expect(seen[0]!.headers.authorization).toBe('Token s3cr3t-token');
    expect(seen[0]!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(v2().endpoint).not.toContain('s3cr3t');
  });

  it('v1: POST /write with db, rp, the v1 precision names and Basic credentials', async () => {
    seen.length = 0;
    await v1({ rp: 'autogen', username: 'writer', password: 'pw' }).write('m f=1 1\n');
    await v1({ precision: 'ns' }).write('m f=1 1\n');
    await v1({ precision: 'ms', token: 'tok' }).write('m f=1 1\n');
    expect(seen.map((s) => s.url)).toEqual(['/write?db=fintrans&rp=autogen&precision=u', '/write?db=fintrans&precision=n', '/write?db=fintrans&precision=ms']);
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('writer:pw').toString('base64')}`);
    expect(seen[1]!.headers.authorization).toBeUndefined();
    expect(seen[2]!.headers.authorization).toBe('Token tok');
  });

  it('compresses with gzip when asked', async () => {
    seen.length = 0;
    await v2({ gzip: true }).write('m f=1 1\nm f=2 2\n');
    expect(seen[0]!.headers['content-encoding']).toBe('gzip');
    expect(seen[0]!.body).toBe('m f=1 1\nm f=2 2\n');
  });
});

describe('HttpWriter outcomes', () => {
  it('a refused point (400, 422) is "points", with the server\'s own words from v2 or v1 bodies', async () => {
    replies.push({ status: 400, body: JSON.stringify({ code: 'invalid', message: 'partial write: field type conflict' }) });
    let f = await failure(v2().write('x\n'));
    expect(f).toMatchObject({ kind: 'points', status: 400, serverMessage: 'partial write: field type conflict' });
    replies.push({ status: 400, body: JSON.stringify({ error: 'unable to parse' }) });
    f = await failure(v1().write('x\n'));
    expect(f.serverMessage).toBe('unable to parse');
    replies.push({ status: 422, body: 'points beyond retention policy' });
    expect((await failure(v2().write('x\n'))).kind).toBe('points');
  });

  it('the 400 of a TLS-only server asked in plain HTTP is transient (the url is wrong, not the points)', async () => {
    replies.push({ status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' });
    const f = await failure(v1().write('x\n'));
    expect(f.kind).toBe('transient');
    expect(f.message).toMatch(/use an https:\/\/ url/);
  });

  it('413 is "too-large"', async () => {
    replies.push({ status: 413, body: '{"message":"request too large"}' });
    expect((await failure(v2().write('x\n'))).kind).toBe('too-large');
  });

  it('429 and 503 are transient and carry Retry-After in the error', async () => {
    replies.push({ status: 429, body: '{"message":"too many requests"}', headers: { 'Retry-After': '30' } });
    const f = await failure(v2().write('x\n'));
    expect(f).toMatchObject({ kind: 'transient', status: 429, retryAfterMs: 30_000 });
    expect(f.message).toMatch(/HTTP 429: too many requests; the server asks to retry after 30 s \(Retry-After\)/);
    replies.push({ status: 503 });
    expect((await failure(v2().write('x\n'))).kind).toBe('transient');
  });

  it('401 and 404 are transient (configuration the operator fixes while the data waits), with a hint', async () => {
    replies.push({ status: 401, body: '{"message":"unauthorized access"}' });
    expect((await failure(v2().write('x\n'))).message).toMatch(/HTTP 401: unauthorized access \(check the token/);
    replies.push({ status: 404, body: '{"message":"bucket \\"x\\" not found"}' });
    const f = await failure(v2().write('x\n'));
    expect(f.kind).toBe('transient');
    expect(f.message).toMatch(/use api: v1/);
  });

  it('a server that is not there, or does not answer in time, is transient', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const f = await failure(v2({ url: `http://127.0.0.1:${port}` }).write('x\n'));
    expect(f.kind).toBe('transient');
    expect(f.message).toMatch(/ECONNREFUSED/);
    replies.push({ status: 204, hang: true });
    const t = await failure(v2({ timeoutMs: 200 }).write('x\n'));
    expect(t.message).toMatch(/no answer within 200 ms/);
  });

  it('the agent\'s signal aborts a write in flight, as transient', async () => {
    const before = seen.length;
    replies.push({ status: 204, hang: true });
    const stop = new AbortController();
    const pending = failure(v2().write('x\n', stop.signal));
    await vi.waitFor(() => expect(seen.length).toBe(before + 1));
    stop.abort();
    const f = await pending;
    expect(f.kind).toBe('transient');
    expect(f.message).toMatch(/failed: This operation was aborted$/);
  });

  it('an answer cut off mid-body is transient, even with a 2xx status', async () => {
    replies.push({ status: 200, cut: true });
    expect((await failure(v2().write('x\n'))).kind).toBe('transient');
  });

  it('never lets the token or password into a message, even when the server echoes it', async () => {
    replies.push({ status: 400, body: JSON.stringify({ message: 'bad token s3cr3t-token here' }) });
    const f = await failure(v2().write('x\n'));
    expect(f.message).not.toContain('s3cr3t-token');
    expect(f.serverMessage).toBe('bad token *** here');
    replies.push({ status: 401, body: JSON.stringify({ error: 'user writer with password hunter2 refused' }) });
    expect((await failure(v1({ username: 'writer', password: 'hunter2' }).write('x\n'))).message).not.toContain('hunter2');
  });
});

describe('helpers', () => {
  it('classify', () => {
    expect([400, 413, 422, 401, 403, 404, 408, 429, 500, 503].map(classify)).toEqual(['points', 'too-large', 'points', 'transient', 'transient', 'transient', 'transient', 'transient', 'transient', 'transient']);
  });

  it('parseRetryAfter reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('serverMessage prefers JSON message or error, then the header, then the text', () => {
    expect(serverMessage('{"message":"m"}', null)).toBe('m');
    expect(serverMessage('{"error":"e"}', 'h')).toBe('e');
    expect(serverMessage('', 'from header')).toBe('from header');
    expect(serverMessage('  plain text \n', null)).toBe('plain text');
  });
});

// ------------------------------------------------------------------ https, with a throwaway certificate

/** A self-signed certificate for 127.0.0.1 (its own CA), made with openssl when there is one. */
function selfSigned(): { cert: string; key: string } | undefined {
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fta-influx-tls-'));
  try {
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem',
      '-days', '1', '-subj', '/CN=fta-test', '-addext', 'subjectAltName=IP:127.0.0.1'];
    if (spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' }).status !== 0) return undefined;
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const pki = selfSigned();

describe.skipIf(!pki)('HttpWriter over https', () => {
  const { cert, key } = pki ?? { cert: '', key: '' };
  const got: { body: string; client: string | undefined }[] = [];
  let tlsServer: ReturnType<typeof createHttpsServer>;
  let url = '';
  let connections = 0;
  beforeAll(async () => {
    // Asks for a client certificate but serves without one, so each test sees whether one was presented.
    tlsServer = createHttpsServer({ cert, key, ca: cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const socket = req.socket as TLSSocket;
        got.push({ body: (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'), client: socket.authorized ? String(socket.getPeerCertificate().subject.CN) : undefined });
        res.writeHead(204).end();
      });
    });
    tlsServer.on('secureConnection', () => connections++);
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    tlsServer.closeAllConnections();
    tlsServer.close();
  });
  const writer = (tls: WriterConfig['tls'], c: Partial<WriterConfig> = {}) => new HttpWriter({ api: 'v1', url, precision: 'ns', gzip: false, timeoutMs: 5000, db: 'fintrans', tls, ...c });

  it('trusts the server through tls.ca and keeps one connection for every write', async () => {
    got.length = 0;
    connections = 0;
    const w = writer({ ca: cert, rejectUnauthorized: true }, { gzip: true });
    await w.write('m f=1 1\n');
    await w.write('m f=2 2\n');
    w.close();
    expect(got).toEqual([{ body: 'm f=1 1\n', client: undefined }, { body: 'm f=2 2\n', client: undefined }]);
    expect(connections).toBe(1);
  });

  it('presents the client certificate for mutual TLS', async () => {
    got.length = 0;
    const w = writer({ ca: cert, cert, key, rejectUnauthorized: true });
    await w.write('m f=1 1\n');
    w.close();
    expect(got).toEqual([{ body: 'm f=1 1\n', client: 'fta-test' }]);
  });

  it('without the CA, refuses the server: transient, says what to set, and sends nothing', async () => {
    got.length = 0;
    const f = await failure(writer({ rejectUnauthorized: true }).write('m f=1 1\n'));
    expect(f.kind).toBe('transient');
    expect(f.message).toMatch(/self-signed certificate.*set tls\.caFile to the CA that signed it/);
    expect(got).toEqual([]);
  });
});

/**
 * One HTTP write of line protocol to InfluxDB, with node:http / node:https, for both APIs:
 *
 * - `v2`: POST /api/v2/write?org=&bucket=&precision=ns|us|ms|s, `Authorization: Token …` (InfluxDB 2.x and 3.x,
 *   InfluxDB Cloud, and servers that implement the endpoint, such as QuestDB);
 * - `v1`: POST /write?db=&rp=&precision=n|u|ms|s, HTTP Basic credentials (InfluxDB 1.x; 1.6 takes an unknown
 *   precision such as "us" for nanoseconds without complaint, hence the mapping), or a token for the
 *   v1-compatibility endpoint of 2.x/3.x.
 *
 * The outcome is classified for the sink: 2xx is the acknowledgement; 400 and 422 mean the server refused
 * points (a parse error, a field type conflict, a point outside the retention period), 413 that the request was
 * too large; 429, 5xx, timeouts and network errors are transient, and so are 401/403/404, which are configuration
 * problems (token, database, bucket) that an operator fixes while the data waits in the channel. Credentials go
 * in headers only, never in the URL, and every message names the endpoint without them.
 *
 * Why not fetch: Node's global fetch cannot trust a custom CA (or present a client certificate) without an undici
 * dispatcher, while node:https takes the `tls` block's PEM strings directly. One keep-alive Agent per writer
 * reuses the connection (and the TLS session) across batches, as fetch's pool did.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { TlsOptions } from '../../shared/tls.ts';
import type { Precision } from './timestamp.ts';

const gzip = promisify(gzipCallback);

export interface WriterConfig {
  api: 'v1' | 'v2';
  url: string;
  precision: Precision;
  gzip: boolean;
  timeoutMs: number;
  token?: string;
  org?: string;
  bucket?: string;
  db?: string;
  rp?: string;
  username?: string;
  password?: string;
  /** Trust and client certificate for https:// URLs (loaded PEM strings); ignored for http://. */
  tls?: TlsOptions;
}

/** An answer read to its end. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Codes node:tls gives a certificate it does not trust, so the message can say what to change. */
const UNTRUSTED = /CERT|SIGNATURE|ALTNAME|ISSUER/;
/** Go's TLS listener (InfluxDB's) answers plain HTTP with a 400 that refuses the url, not the points: never dead-letter on it. */
const PLAIN_TO_TLS = /HTTP request to an HTTPS server/;

/** `points`: some point in the request is refused for good; `too-large`: the request body is; `transient`: retry. */
export type FailureKind = 'points' | 'too-large' | 'transient';

export class WriteFailure extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status: number | undefined,
    /** What the server said (its JSON `message`/`error`, else the body text), for dead-letter details. */
    readonly serverMessage: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WriteFailure';
  }
}

const V1_PRECISION: Record<Precision, string> = { s: 's', ms: 'ms', us: 'u', ns: 'n' };

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function classify(status: number): FailureKind {
  if (status === 400 || status === 422) return 'points';
  if (status === 413) return 'too-large';
  return 'transient';
}

/** The server's own words: InfluxDB 2.x/3.x and QuestDB send `{ message }`, 1.x `{ error }`. */
export function serverMessage(body: string, header: string | null): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; error?: unknown };
    const m = j.message ?? j.error;
    if (typeof m === 'string' && m) return m.slice(0, 2000);
  } catch {
    // not JSON
  }
  return (header || body.trim()).slice(0, 2000);
}

export class HttpWriter {
  /** Where the writes go, safe to log: no credentials (the configured URL's user info is refused by the sink). */
  readonly endpoint: string;
  private readonly target: URL;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly agent: HttpAgent;

  constructor(private readonly c: WriterConfig) {
    const base = c.url.replace(/\/+$/, '');
    const params = new URLSearchParams();
    if (c.api === 'v2') {
      if (c.org) params.set('org', c.org);
      params.set('bucket', c.bucket ?? '');
      params.set('precision', c.precision);
    } else {
      params.set('db', c.db ?? '');
      if (c.rp) params.set('rp', c.rp);
      params.set('precision', V1_PRECISION[c.precision]);
    }
    this.target = new URL(`${base}${c.api === 'v2' ? '/api/v2/write' : '/write'}?${params}`);
    this.endpoint = this.target.href;
    // Idle connections close after 5 s, like Node's global agent, before a server's idle timeout can cut them.
    const pool = { keepAlive: true, timeout: 5_000 };
    this.agent = this.target.protocol === 'https:' ? new HttpsAgent({ ...pool, ...c.tls }) : new HttpAgent(pool);
    this.headers = { 'Content-Type': 'text/plain; charset=utf-8', Accept: 'application/json' };
    if (c.gzip) this.headers['Content-Encoding'] = 'gzip';
    if (c.api === 'v1' && c.username !== undefined) this.headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
    else if (c.token) this.headers.Authorization = `Token ${c.token}`;
    this.secrets = [c.token, c.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
  }

  /** Never lets a credential through, whatever a server or a library puts in a message. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** Closes the pooled connections (after the last write). */
  close(): void {
    this.agent.destroy();
  }

  /** Writes the lines; resolves on 2xx, else throws a WriteFailure. */
  async write(lines: string, signal?: AbortSignal): Promise<void> {
    const body = this.c.gzip ? await gzip(Buffer.from(lines, 'utf8')) : Buffer.from(lines, 'utf8');
    const timeout = AbortSignal.timeout(this.c.timeoutMs);
    let res: Answer;
    try {
      res = await this.post(body, signal ? AbortSignal.any([timeout, signal]) : timeout);
    } catch (error) {
      const e = error as Error & { code?: unknown };
      // An abort's DOMException carries a numeric legacy code: only node's string codes are worth showing.
      const code = typeof e.code === 'string' ? e.code : '';
      let why = timeout.aborted ? `no answer within ${this.c.timeoutMs} ms` : code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
      if (!timeout.aborted && UNTRUSTED.test(code)) why += '; the server certificate is not trusted: set tls.caFile to the CA that signed it, and check the host in url matches the certificate';
      throw new WriteFailure(this.redact(`InfluxDB write to ${this.endpoint} failed: ${why}`), 'transient', undefined, this.redact(why));
    }
    if (res.status >= 200 && res.status < 300) return;
    const header = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : (v ?? null);
    };
    const said = this.redact(serverMessage(res.text, header('x-influxdb-error')));
    const retryAfterMs = parseRetryAfter(header('retry-after'));
    const plainToTls = res.status === 400 && PLAIN_TO_TLS.test(res.text);
    const kind = plainToTls ? 'transient' : classify(res.status);
    let hint = '';
    if (plainToTls) hint = ' (the server speaks HTTPS: use an https:// url)';
    else if (res.status === 401 || res.status === 403) hint = ' (check the token or username/password)';
    else if (res.status === 404) hint = this.c.api === 'v2' ? ' (check url, org and bucket; InfluxDB 1.x before 1.8 has no /api/v2/write: use api: v1)' : ' (check url and db)';
    const after = retryAfterMs === undefined ? '' : `; the server asks to retry after ${Math.ceil(retryAfterMs / 1000)} s (Retry-After)`;
    throw new WriteFailure(`InfluxDB write to ${this.endpoint} failed: HTTP ${res.status}${said ? `: ${said}` : ''}${hint}${after}`, kind, res.status, said, retryAfterMs);
  }

  /** One POST, read to the end; the signal aborts it at any point, also while the answer is arriving. */
  private post(body: Buffer, signal: AbortSignal): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const request = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers = { ...this.headers, 'Content-Length': String(body.length) };
      const req = request(this.target, { method: 'POST', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('close', () => {
          // A connection cut mid-answer ends without 'end'; after 'end' this reject is a no-op.
          if (!res.complete) reject(new Error('the connection closed before the whole answer arrived'));
        });
        res.on('end', () => {
          signal.removeEventListener('abort', abort);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const abort = () => req.destroy(signal.reason as Error);
      signal.addEventListener('abort', abort, { once: true });
      req.on('error', (error) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      });
      req.end(body);
    });
  }
}

/**
 * The `influxdb` sink: one HTTP write of line protocol per channel batch, through the v2 API (InfluxDB 2.x/3.x,
 * InfluxDB Cloud, QuestDB) or the v1 API (InfluxDB 1.x); the channel commits only after the server answered 2xx.
 *
 * Client choice: a plain POST (node:http / node:https, see influxdb/http-writer.ts), not @influxdata/influxdb-client.
 * Its WriteApi buffers points across calls, flushes on its own timer and retries with its own backoff (dropping
 * data once maxRetries or maxRetryTime run out): the runner's take → write → commit | rollback already does that.
 * With those disabled, what is left is a POST whose status and body we need anyway (a refused point vs a server
 * that is down, Retry-After), and it has no v1 `/write` for InfluxDB 1.x. One request per batch, whose answer is
 * the acknowledgement, is the exact contract.
 *
 * Failures: 429, 5xx, timeouts and network errors roll the batch back (the runner backs off; a Retry-After is
 * honoured by refusing to write again before it passes). A 400/422 means the server refused some point (parse
 * error, field type conflict): the batch is split until the refused points are found, the rest is written, and
 * those go to dead letters with the server's reason. InfluxDB 1.x and 2.x keep the good points of a refused
 * request ("partial write"), so a split may send some points twice: they carry explicit times, so the second
 * write overwrites the first. Events that cannot be points at all are dead-lettered before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError, definePlugin, type WriteResult } from '../../agent/index.ts';
import { loadTls, tlsProblems, tlsSchema, type TlsConfig } from '../shared/tls.ts';
import { HttpWriter, WriteFailure } from './influxdb/http-writer.ts';
import { PointBuilder, type Point } from './influxdb/points.ts';
import { PRECISIONS, type Precision } from './influxdb/timestamp.ts';

export interface InfluxSinkConfig {
  url: string;
  api: 'v2' | 'v1';
  token?: string;
  tokenFile?: string;
  org?: string;
  bucket?: string;
  db?: string;
  rp?: string;
  username?: string;
  password?: string;
  passwordFile?: string;
  tls?: TlsConfig;
  measurement?: string;
  measurementField?: string;
  tags: string[];
  fields: string[];
  integerFields: string[];
  timestampField?: string;
  precision: Precision;
  uniqueTimestamps: boolean;
  batchSize: number;
  flushIntervalMs: number;
  timeoutMs: number;
  gzip: boolean;
}

type Rejected = NonNullable<WriteResult['rejected']>;

/** Names InfluxDB 1.x refuses as keys (`time`) or that collide with Flux's columns in 2.x. */
const RESERVED = new Set(['time', '_measurement', '_field', '_value', '_time', '_start', '_stop']);
const names = (description: string) => ({ type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, description });

export function lintInflux(c: Readonly<InfluxSinkConfig>): { key?: string; message: string }[] {
  const p: { key?: string; message: string }[] = [];
  try {
    const u = new URL(c.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') p.push({ key: 'url', message: `url must be http:// or https://, not ${u.protocol}` });
    if (u.username || u.password) p.push({ key: 'url', message: 'url must not carry credentials: use token (or username and password with api: v1)' });
    if (u.search) p.push({ key: 'url', message: 'url must be the server\'s base URL without a query: org, bucket, db and precision have their own keys' });
    if (c.tls && u.protocol === 'http:') p.push({ key: 'tls', message: 'tls is set but url is http://: use an https:// url, or remove tls' });
  } catch {
    p.push({ key: 'url', message: `url is not a URL: ${JSON.stringify(c.url)}` });
  }
  for (const message of tlsProblems(c.tls)) p.push({ key: 'tls', message });
  if ((c.measurement === undefined) === (c.measurementField === undefined)) p.push({ key: 'measurement', message: 'give exactly one of measurement (a fixed name) and measurementField (a field holding the name)' });
  if (c.token !== undefined && c.tokenFile !== undefined) p.push({ key: 'tokenFile', message: 'give token or tokenFile, not both' });
  if (c.password !== undefined && c.passwordFile !== undefined) p.push({ key: 'passwordFile', message: 'give password or passwordFile, not both' });
  if (c.api === 'v2') {
    if (!c.bucket) p.push({ key: 'bucket', message: 'api v2 needs bucket' });
    for (const k of ['db', 'rp', 'username', 'password', 'passwordFile'] as const) if (c[k] !== undefined) p.push({ key: k, message: `${k} is an api: v1 key; with api: v2 use org, bucket and token` });
  } else {
    if (!c.db) p.push({ key: 'db', message: 'api v1 needs db' });
    for (const k of ['org', 'bucket'] as const) if (c[k] !== undefined) p.push({ key: k, message: `${k} is an api: v2 key; with api: v1 use db and rp` });
    if ((c.password !== undefined || c.passwordFile !== undefined) && c.username === undefined) p.push({ key: 'username', message: 'a password needs a username' });
    if (c.username !== undefined && (c.token !== undefined || c.tokenFile !== undefined)) p.push({ key: 'token', message: 'give username/password or a token, not both' });
  }
  const fields = new Set(c.fields);
  for (const f of c.integerFields) if (!fields.has(f)) p.push({ key: 'integerFields', message: `integerFields lists ${f}, which is not in fields` });
  for (const t of c.tags) if (fields.has(t)) p.push({ key: 'tags', message: `${t} is both a tag and a field; InfluxDB queries could not tell them apart` });
  for (const n of [...c.tags, ...c.fields]) if (RESERVED.has(n)) p.push({ key: c.tags.includes(n) ? 'tags' : 'fields', message: `${n} is reserved in InfluxDB and cannot be a tag or field key` });
  return p;
}

export default definePlugin<'sink', InfluxSinkConfig>({
  kind: 'sink',
  type: 'influxdb',
  description: 'Writes events as InfluxDB points (line protocol over the v2 or v1 HTTP API); the channel commits only after the server acknowledged the batch.',
  secrets: ['token', 'password'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'fields'],
    properties: {
      url: { type: 'string', minLength: 1, description: 'Base URL of the server, e.g. http://127.0.0.1:8086 or https://us-east-1-1.aws.cloud2.influxdata.com (no path to the write endpoint, no credentials).' },
      api: { enum: ['v2', 'v1'], default: 'v2', description: 'v2: POST /api/v2/write with org, bucket and a token (InfluxDB 2.x/3.x, InfluxDB Cloud, QuestDB). v1: POST /write with db and rp (InfluxDB 1.x).' },
      token: { type: 'string', description: 'API token, sent as "Authorization: Token …"; give it as ${ENV_VAR}, or use tokenFile. With api v1 it is sent the same way (the v1 compatibility API of 2.x/3.x).' },
      tokenFile: { type: 'string', description: 'File holding the token (relative to the config file; a trailing newline is ignored).' },
      org: { type: 'string', description: 'Organization name or ID (api v2; InfluxDB 3 and QuestDB ignore it).' },
      bucket: { type: 'string', description: 'Bucket (api v2; "database/retention-policy" also works against 2.x).' },
      db: { type: 'string', description: 'Database (api v1).' },
      rp: { type: 'string', description: 'Retention policy (api v1); the database default when absent.' },
      username: { type: 'string', description: 'User for HTTP Basic authentication (api v1).' },
      password: { type: 'string', description: 'Password (api v1); give it as ${ENV_VAR}, or use passwordFile.' },
      passwordFile: { type: 'string', description: 'File holding the password (relative to the config file; a trailing newline is ignored).' },
      tls: tlsSchema('server', 'TLS for an https:// url: the CA to trust for a private or self-signed server certificate, and a client certificate for mutual TLS.'),
      measurement: { type: 'string', minLength: 1, description: 'Measurement of every point. Exclusive with measurementField.' },
      measurementField: { type: 'string', minLength: 1, description: 'Field whose string value is the measurement of its event (events without it go to dead letters, reason invalid-measurement).' },
      tags: { ...names('Fields written as tags (indexed; keep them low-cardinality). Null, absent or "" values leave the tag out; numbers and booleans become text.'), default: [] },
      fields: { ...names('Fields written as fields. Numbers, booleans and strings keep their types; null or absent values leave the field out; an event with none of them goes to dead letters (no-fields).'), minItems: 1 },
      integerFields: { ...names('Fields among fields written as integers (123i). Every other number is written as a float, even 5, so one field never changes type between points (a field type conflict makes the server refuse the point).'), default: [] },
      timestampField: { type: 'string', minLength: 1, description: 'Field holding the point time: epoch seconds, milliseconds, microseconds or nanoseconds (detected per value from its magnitude; a numeric string works too) or an ISO-8601 date-time (UTC when it has no offset). A missing or unreadable value sends the event to dead letters (invalid-timestamp). Unset: the time the event entered the agent.' },
      precision: { enum: [...PRECISIONS], default: 'ns', description: 'Precision of the times written (finer parts are truncated): s, ms, us or ns.' },
      uniqueTimestamps: { type: 'boolean', default: true, description: 'Move a point that has the same series and time as an earlier point of the same batch one precision unit later, so it is kept instead of overwriting that point (InfluxDB keeps one point per series and time).' },
      batchSize: { type: 'integer', minimum: 1, default: 1000, description: 'Events per channel transaction, written with one HTTP request.' },
      flushIntervalMs: { type: 'integer', minimum: 0, default: 0, description: 'Shortest time in milliseconds between writes of batches smaller than batchSize: such a batch waits until this long after the previous write, so at low rates more events gather for the next request. Full batches are written at once. 0: every batch is written as soon as it is taken.' },
      timeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'Milliseconds to wait for the server\'s answer before the batch is rolled back and retried.' },
      gzip: { type: 'boolean', default: false, description: 'Compress request bodies with gzip (Content-Encoding: gzip).' },
    },
  },
  lint: lintInflux,
  create(config, ctx) {
    const read = (file: string) => readFileSync(resolve(ctx.configDir, file), 'utf8').replace(/\r?\n$/, '');
    const writer = new HttpWriter({
      api: config.api,
      url: config.url,
      precision: config.precision,
      gzip: config.gzip,
      timeoutMs: config.timeoutMs,
      token: config.tokenFile !== undefined ? read(config.tokenFile) : config.token,
      org: config.org,
      bucket: config.bucket,
      db: config.db,
      rp: config.rp,
      username: config.username,
      password: config.passwordFile !== undefined ? read(config.passwordFile) : config.password,
      ...(config.tls ? { tls: loadTls(config.tls, ctx.configDir) } : {}),
    });
    let builder: PointBuilder;
    try {
      builder = new PointBuilder(config);
    } catch (error) {
      throw new Error(`Invalid influxdb sink configuration: ${(error as Error).message}.`);
    }
    const requests = ctx.metrics.counter('requests_total', 'HTTP write requests sent, including those that split a batch to isolate refused points.');
    const requestSeconds = ctx.metrics.histogram('request_seconds', 'Duration of one HTTP write request.');
    let lastWrite = 0;
    let notBefore = 0;

    async function post(points: readonly Point[]): Promise<void> {
      let body = '';
      for (const p of points) body += p.line + '\n';
      requests.inc();
      lastWrite = Date.now();
      const started = performance.now();
      try {
        await writer.write(body, ctx.signal);
      } finally {
        requestSeconds.observe((performance.now() - started) / 1000);
      }
    }

    /** Writes the points; on a refusal splits them until each refused point is alone, and delivers the rest. */
    async function send(points: readonly Point[], rejected: Rejected): Promise<void> {
      try {
        await post(points);
      } catch (error) {
        if (!(error instanceof WriteFailure)) throw error;
        if (error.kind === 'transient') {
          if (error.retryAfterMs) notBefore = Date.now() + error.retryAfterMs;
          throw new AgentError('FTA_INFLUXDB_WRITE', error.message, { retriable: true });
        }
        if (points.length === 1) {
          rejected.push({ event: points[0]!.event, reason: error.kind === 'too-large' ? 'too-large' : 'rejected-by-server', detail: `HTTP ${error.status}: ${error.serverMessage}` });
          return;
        }
        const mid = points.length >> 1;
        await send(points.slice(0, mid), rejected);
        await send(points.slice(mid), rejected);
      }
    }

    ctx.log.info({ endpoint: writer.endpoint, api: config.api }, 'InfluxDB sink writes to the endpoint.');
    return {
      async write(events) {
        const wait = notBefore - Date.now();
        if (wait > 0) throw new AgentError('FTA_INFLUXDB_WRITE', `InfluxDB asked to retry after a pause (Retry-After); ${Math.ceil(wait / 1000)} s left, nothing sent.`, { retriable: true });
        const { points, refused } = builder.build(events);
        const rejected: Rejected = refused;
        if (points.length === 0) return { rejected };
        if (config.flushIntervalMs > 0 && events.length < config.batchSize) {
          const linger = lastWrite + config.flushIntervalMs - Date.now();
          if (linger > 0) await sleep(linger, undefined, { signal: ctx.signal }).catch(() => undefined);
        }
        await send(points, rejected);
        return { rejected };
      },
      async stop() {
        writer.close();
      },
    };
  },
});

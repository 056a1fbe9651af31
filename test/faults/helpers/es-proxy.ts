/**
 * A fault-injecting HTTP proxy in front of the real Elasticsearch: Elasticsearch does not return 429 on demand
 * (thread_pool.write.queue_size is a static node setting), so this proxy answers for it while a test asks. Every
 * request goes to the real server except what the current mode refuses:
 *
 * - `pass`: everything is forwarded untouched.
 * - `reject`: every _bulk request is answered 429 es_rejected_execution_exception as a whole (nothing indexed).
 * - `reject-items`: every other item of each _bulk request is held back and answered 429 in the bulk response
 *   (as a node whose write queue is full answers per item); the others are forwarded and indexed for real.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

export type ProxyMode = 'pass' | 'reject' | 'reject-items';

export interface EsProxy {
  url: string;
  mode: ProxyMode;
  /** Bulk requests answered 429 as a whole, and bulk items answered 429. */
  readonly rejected: { requests: number; items: number };
  close(): Promise<void>;
}

const REJECTION = { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [injected by the test proxy: write queue full]' };
/** The JS client checks this header on every response it gets from "Elasticsearch". */
const PRODUCT = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' };

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(target: URL, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Upstream> {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !['host', 'content-length', 'accept-encoding', 'connection'].includes(k)) h[k] = v;
  h['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface BulkItem {
  op: string;
  action: Record<string, { _index?: string; _id?: string }>;
  lines: string[];
}

function parseBulk(body: string): BulkItem[] {
  const lines = body.split('\n').filter((l) => l.length > 0);
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const action = JSON.parse(lines[i]!) as BulkItem['action'];
    const op = Object.keys(action)[0]!;
    items.push({ op, action, lines: op === 'delete' ? [lines[i]!] : [lines[i]!, lines[++i]!] });
  }
  return items;
}

export async function startEsProxy(target: string): Promise<EsProxy> {
  const to = new URL(target);
  const rejected = { requests: 0, items: 0 };
  const proxy: EsProxy = { url: '', mode: 'pass', rejected, close: async () => undefined };

  async function bulkItems(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; body: string }> {
    const items = parseBulk(body.toString('utf8'));
    const kept = items.filter((_, i) => i % 2 === 1);
    let upstream: { took?: number; items?: unknown[] } = { took: 0, items: [] };
    if (kept.length > 0) {
      const res = await forward(to, method, path, headers, Buffer.from(`${kept.flatMap((k) => k.lines).join('\n')}\n`));
      if (res.status !== 200) return { status: res.status, body: res.body.toString('utf8') };
      upstream = JSON.parse(res.body.toString('utf8')) as typeof upstream;
    }
    const answers = items.map((item, i) => {
      if (i % 2 === 1) return upstream.items![(i - 1) / 2];
      rejected.items++;
      const meta = item.action[item.op]!;
      return { [item.op]: { _index: meta._index, _id: meta._id, status: 429, error: REJECTION } };
    });
    return { status: 200, body: JSON.stringify({ took: upstream.took ?? 0, errors: true, items: answers }) };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      try {
        const bulk = /^\/(?:[^/?]+\/)?_bulk(?:\?|$)/.test(path);
        if (bulk && proxy.mode === 'reject') {
          rejected.requests++;
          res.writeHead(429, PRODUCT).end(JSON.stringify({ error: { root_cause: [REJECTION], ...REJECTION }, status: 429 }));
          return;
        }
        if (bulk && proxy.mode === 'reject-items') {
          const r = await bulkItems(method, path, req.headers, body);
          res.writeHead(r.status, PRODUCT).end(r.body);
          return;
        }
        const up = await forward(to, method, path, req.headers, body);
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !['content-length', 'transfer-encoding', 'connection'].includes(k)) headers[k] = v;
        res.writeHead(up.status, headers).end(up.body);
      } catch (error) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())));
  return proxy;
}

/**
 * The monitoring endpoint: /metrics (Prometheus text), /health (200 only while every component runs) and /status
 * (Flume's HTTP-monitoring JSON). Bound to loopback unless configured otherwise; a bearer token can be required.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { secretValues } from '../log.ts';
import type { MetricsRegistry } from './registry.ts';

export interface MetricsServerOptions {
  host: string;
  port: number;
  token?: string;
  healthy: () => boolean;
  /** Extra fields for /status (per-channel status from the channel implementations). */
  extraStatus?: () => Record<string, Record<string, string>>;
}

function tokenOk(header: string | undefined, token: string): boolean {
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startMetricsServer(metrics: MetricsRegistry, o: MetricsServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      if (o.token && !tokenOk(req.headers.authorization, o.token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized\n');
        return;
      }
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      // Bodies carry error texts (LastError) that may quote a credential a server or client echoed: scrubbed.
      if (url === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.contentType }).end(secretValues.scrub(await metrics.prometheus()));
      } else if (url === '/health') {
        const ok = o.healthy();
        const down = metrics.components.filter((s) => s.state !== 'running' && s.state !== 'completed').map((s) => `${s.kind}:${s.name}:${s.state}`);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'UP' : 'DOWN', down }));
      } else if (url === '/status' || url === '/status/') {
        const status = metrics.status();
        const extra = o.extraStatus?.() ?? {};
        for (const [k, v] of Object.entries(extra)) status[k] = { ...(status[k] ?? {}), ...v };
        res.writeHead(200, { 'content-type': 'application/json' }).end(secretValues.scrub(JSON.stringify(status)));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Try /metrics, /health or /status.\n');
      }
    } catch (error) {
      res.writeHead(500).end(secretValues.scrub(String((error as Error).message)));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return { server, port, close: () => new Promise((r) => server.close(() => r())) };
}

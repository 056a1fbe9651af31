/** Small readiness-probe helpers: TCP connect and HTTP requests with short timeouts. */
import { connect } from 'node:net';

export const HOST = '127.0.0.1';

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function tcpOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request to 127.0.0.1; never throws (a connection failure is status 0 with the error as body). */
export async function http(port: number, path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<HttpResult> {
  try {
    const res = await fetch(`http://${HOST}:${port}${path}`, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(init.timeoutMs ?? 3000),
    });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: cause ?? (e as Error).message };
  }
}

/** Ready when `path` answers with one of `statuses`; otherwise a short reason. */
export async function httpReady(port: number, path: string, statuses: readonly number[] = [200]): Promise<true | string> {
  const r = await http(port, path);
  if (statuses.includes(r.status)) return true;
  return r.status === 0 ? `GET ${path}: ${r.body}` : `GET ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`;
}

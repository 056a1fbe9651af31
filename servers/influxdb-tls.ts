/**
 * A second InfluxDB 1.6.7 (the same Debian package as servers/influxdb.ts, unpacked into its own
 * `.servers/influxdb-tls/libs`) whose HTTP API serves HTTPS only, on 127.0.0.1:8087, with the server certificate
 * of the test PKI (servers/tls.ts). It exists so the influxdb sink's `tls` block is tested against a real server
 * that verifies nothing on its side and whose certificate the client must trust through `caFile`.
 *
 * A separate server rather than a second listener of the plain one: influxd 1.x has one HTTP listener, and the
 * plain tests (test/influxdb.test.ts) must keep running against http://127.0.0.1:8086 unchanged.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { INFLUXDB_DATABASE, fetchInfluxdb, influxConfig, influxdb } from './influxdb.ts';
import type { ServerDef } from './layout.ts';
import { HOST, type HttpResult } from './probe.ts';
import { ensureTls, tlsFiles } from './tls.ts';

export const INFLUXDB_TLS_PORT = 8087;
const RPC_PORT = 8089; // backup/restore RPC; 8088 is the plain server's
export const INFLUXDB_TLS_DATABASE = INFLUXDB_DATABASE;

/**
 * One HTTPS request to 127.0.0.1 that trusts only the test CA; never throws (a connection or certificate
 * failure is status 0 with the error code as body). probe.ts's `http` is plain HTTP, and fetch takes no CA.
 */
export function https(port: number, path: string, method = 'GET', timeoutMs = 3000): Promise<HttpResult> {
  return new Promise((resolve) => {
    let ca: string;
    try {
      ca = readFileSync(tlsFiles.caCert, 'utf8');
    } catch (e) {
      resolve({ status: 0, body: `cannot read ${tlsFiles.caCert}: ${(e as NodeJS.ErrnoException).code}` });
      return;
    }
    const req = request({ host: HOST, port, path, method, ca, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: e.code ?? e.message }));
    req.end();
  });
}

export const influxdbTls: ServerDef = {
  name: 'influxdb-tls',
  version: `${influxdb.version}, HTTPS only`,
  ports: [INFLUXDB_TLS_PORT, RPC_PORT],
  needsJava: false,
  readyTimeoutMs: 30_000,

  fetch: fetchInfluxdb,

  async configure(ctx, fresh) {
    const pki = await ensureTls(ctx);
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    const config = influxConfig(ctx, {
      httpPort: INFLUXDB_TLS_PORT,
      rpcPort: RPC_PORT,
      https: { certificate: pki.serverCert, privateKey: pki.serverKey },
    });
    writeFileSync(join(ctx.conf, 'influxdb.conf'), config);
  },

  processes: (ctx) => [
    { id: 'influxdb', cmd: join(ctx.libs, 'usr', 'bin', 'influxd'), args: ['run', '-config', join(ctx.conf, 'influxdb.conf')] },
  ],

  async ready() {
    // Verifying the certificate here proves the listener serves the test PKI, not merely that the port is open.
    const ping = await https(INFLUXDB_TLS_PORT, '/ping');
    if (ping.status !== 204) return ping.status === 0 ? `GET https /ping: ${ping.body}` : `GET https /ping: HTTP ${ping.status}`;
    const q = await https(INFLUXDB_TLS_PORT, `/query?q=${encodeURIComponent(`CREATE DATABASE ${INFLUXDB_TLS_DATABASE}`)}`, 'POST');
    return q.status === 200 ? true : `POST https /query CREATE DATABASE: HTTP ${q.status} ${q.body.slice(0, 200)}`;
  },
};

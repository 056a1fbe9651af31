/**
 * InfluxDB 1.x from Debian (bookworm's 1.6.7) on 127.0.0.1:8086, unpacked from the .deb into
 * `.servers/influxdb/libs` (nothing is installed; the package's systemd unit never runs).
 *
 * 1.6 speaks only the v1 HTTP API: /ping, /query, /write?db=… (the v2 compatibility endpoints /api/v2/write and
 * /health arrived in 1.8). A database must exist before /write accepts points, so the harness creates
 * `fintrans` on start; tests may create their own with `POST /query q=CREATE DATABASE x`.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchDebs } from './fetch.ts';
import type { Ctx, ServerDef } from './layout.ts';
import { HOST, http } from './probe.ts';

export const INFLUXDB_PORT = 8086;
const RPC_PORT = 8088; // backup/restore RPC; bound to loopback too
export const INFLUXDB_DATABASE = 'fintrans';

export interface InfluxListen {
  readonly httpPort: number;
  readonly rpcPort: number;
  /** PEM certificate and key: the HTTP API then serves HTTPS only. */
  readonly https?: { readonly certificate: string; readonly privateKey: string };
}

/** The influxd configuration; shared with servers/influxdb-tls.ts so both servers differ only in `listen`. */
export function influxConfig(ctx: Ctx, listen: InfluxListen): string {
  const https = listen.https
    ? `  https-enabled = true
  https-certificate = "${listen.https.certificate}"
  https-private-key = "${listen.https.privateKey}"
`
    : '';
  return `# written by servers/${ctx.name}.ts on every start
reporting-disabled = true
bind-address = "${HOST}:${listen.rpcPort}"

[meta]
  dir = "${join(ctx.data, 'meta')}"

[data]
  dir = "${join(ctx.data, 'data')}"
  wal-dir = "${join(ctx.data, 'wal')}"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "${HOST}:${listen.httpPort}"
  auth-enabled = false
  log-enabled = false
${https}
[monitor]
  store-enabled = false
`;
}

/** Unpacks the pinned Debian package (the .deb is cached, so a second server only unpacks it again). */
export const fetchInfluxdb = (ctx: Ctx) => fetchDebs(ctx, [{ name: 'influxdb', version: '1.6.7~rc0-1+b13' }]);

export const influxdb: ServerDef = {
  name: 'influxdb',
  version: 'InfluxDB 1.6.7 (Debian influxdb 1.6.7~rc0-1+b13)',
  ports: [INFLUXDB_PORT, RPC_PORT],
  needsJava: false,
  readyTimeoutMs: 30_000,

  fetch: fetchInfluxdb,

  async configure(ctx, fresh) {
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    writeFileSync(join(ctx.conf, 'influxdb.conf'), influxConfig(ctx, { httpPort: INFLUXDB_PORT, rpcPort: RPC_PORT }));
  },

  processes: (ctx) => [
    { id: 'influxdb', cmd: join(ctx.libs, 'usr', 'bin', 'influxd'), args: ['run', '-config', join(ctx.conf, 'influxdb.conf')] },
  ],

  async ready() {
    const ping = await http(INFLUXDB_PORT, '/ping');
    if (ping.status !== 204) return ping.status === 0 ? `GET /ping: ${ping.body}` : `GET /ping: HTTP ${ping.status}`;
    // Idempotent; also proves the query engine and the meta store work.
    const q = await http(INFLUXDB_PORT, `/query?q=${encodeURIComponent(`CREATE DATABASE ${INFLUXDB_DATABASE}`)}`, { method: 'POST' });
    return q.status === 200 ? true : `POST /query CREATE DATABASE: HTTP ${q.status} ${q.body.slice(0, 200)}`;
  },
};

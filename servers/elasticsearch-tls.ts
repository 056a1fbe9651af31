/**
 * A second Elasticsearch 8.19 node (the integ-test zip of servers/elasticsearch.ts, unpacked into its own
 * `.servers/elasticsearch-tls/libs`) with security on: HTTPS only on 127.0.0.1:9201 with the server certificate of
 * the test PKI (servers/tls.ts), and basic authentication. It exists so the elasticsearch sink's `tls` and `auth`
 * blocks are tested against a real server that verifies credentials, while the plain node on 9200 keeps serving
 * the tests that need no security.
 *
 * The `elastic` superuser's password is random, generated once into a 0600 file (`elasticPasswordFile()`), and
 * reaches Elasticsearch only through its keystore (`bootstrap.password`, written from stdin): it is on no command
 * line, in no config file and in no log.
 *
 * Transport TLS stays off: Elasticsearch logs the bootstrap check "Transport SSL must be enabled if security is
 * enabled" as a warning only, since bootstrap checks are not enforced for a single-node cluster bound to loopback,
 * and a single node opens no transport connections. The integ-test zip lacks analysis-common, so the `.security`
 * index cannot be created (its mapping needs the pattern_capture filter; the log shows "Failed to sync built-in
 * roles"): only the reserved `elastic` user authenticates; native users, role changes and API keys fail with 400.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ES_VERSION, configureElasticsearch, esEnv, esHome, esProcess, fetchElasticsearch } from './elasticsearch.ts';
import { serverDir, type Ctx, type ServerDef } from './layout.ts';
import { HOST, type HttpResult } from './probe.ts';
import { ensureTls, tlsFiles } from './tls.ts';

const NAME = 'elasticsearch-tls';
export const ELASTICSEARCH_TLS_PORT = 9201;
const TRANSPORT_PORT = 9301;
const HEAP = '384m';
export const ELASTIC_USER = 'elastic';

/** The file holding the `elastic` user's password (one line; it exists once the server was configured). */
export function elasticPasswordFile(): string {
  return join(serverDir(NAME), 'elastic.password');
}

function elasticPassword(): string {
  const file = elasticPasswordFile();
  if (!existsSync(file)) {
    mkdirSync(serverDir(NAME), { recursive: true });
    writeFileSync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/** elasticsearch.yml security settings; the PEM paths are relative to the config dir, the only place ES reads. */
const SECURITY = `xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate: certs/server.pem
xpack.security.http.ssl.certificate_authorities: [certs/ca.pem]
xpack.security.transport.ssl.enabled: false
xpack.security.enrollment.enabled: false`;

/**
 * Recreates the keystore with `bootstrap.password` (the elastic user's password until one is set through the
 * API). The value goes in on stdin, so neither tools.log nor `ps` ever shows it.
 */
function writeKeystore(ctx: Ctx, conf: string): void {
  rmSync(join(conf, 'elasticsearch.keystore'), { force: true });
  const log = join(ctx.logs, 'tools.log');
  writeFileSync(log, `\n=== ${new Date().toISOString()} elasticsearch-keystore add -x -f bootstrap.password (value on stdin)\n`, { flag: 'a' });
  const r = spawnSync(join(esHome(ctx), 'bin', 'elasticsearch-keystore'), ['add', '-x', '-f', 'bootstrap.password'], {
    input: `${elasticPassword()}\n`,
    env: { ...process.env, ...esEnv(ctx, '64m') },
    encoding: 'utf8',
    timeout: 120_000,
  });
  writeFileSync(log, `${r.stdout ?? ''}${r.stderr ?? ''}`, { flag: 'a' });
  if (r.status !== 0) {
    throw new Error(`elasticsearch-keystore add bootstrap.password failed (exit ${r.status ?? r.signal}); see ${log}: ${(r.stderr || String(r.error ?? '')).trim().slice(-500)}`);
  }
}

/**
 * One HTTPS request to the node with basic auth as `elastic` (or `password`), trusting only the test CA; never
 * throws (a connection or certificate failure is status 0 with the error code as body). fetch takes no CA.
 */
export function esTlsRequest(method: string, path: string, opts: { body?: string; password?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve) => {
    let ca: string;
    let password: string;
    try {
      ca = readFileSync(tlsFiles.caCert, 'utf8');
      password = opts.password ?? readFileSync(elasticPasswordFile(), 'utf8').trim();
    } catch (e) {
      resolve({ status: 0, body: `cannot read the CA or password file: ${(e as NodeJS.ErrnoException).code}` });
      return;
    }
    const timeoutMs = opts.timeoutMs ?? 5000;
    const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${ELASTIC_USER}:${password}`).toString('base64')}` };
    if (opts.body !== undefined) headers['content-type'] = path.includes('_bulk') ? 'application/x-ndjson' : 'application/json';
    const req = request({ host: HOST, port: ELASTICSEARCH_TLS_PORT, path, method, ca, headers, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: e.code ?? e.message }));
    req.end(opts.body);
  });
}

export const elasticsearchTls: ServerDef = {
  name: NAME,
  version: `Elasticsearch ${ES_VERSION} (integ-test-zip), HTTPS + basic auth`,
  ports: [ELASTICSEARCH_TLS_PORT, TRANSPORT_PORT],
  needsJava: true,
  readyTimeoutMs: 180_000,

  fetch: fetchElasticsearch,

  async configure(ctx, fresh) {
    const pki = await ensureTls(ctx);
    const node = { clusterName: 'fintrans-agent-test-tls', httpPort: ELASTICSEARCH_TLS_PORT, transportPort: TRANSPORT_PORT, security: SECURITY };
    await configureElasticsearch(ctx, fresh, node, async (conf) => {
      // Copies, not links: ES reads certificates only inside its config dir, which is handed to the ES user.
      mkdirSync(join(conf, 'certs'), { recursive: true });
      copyFileSync(pki.serverKey, join(conf, 'certs', 'server.key'));
      copyFileSync(pki.serverCert, join(conf, 'certs', 'server.pem'));
      copyFileSync(pki.caCert, join(conf, 'certs', 'ca.pem'));
      writeKeystore(ctx, conf);
    });
  },

  processes: (ctx) => [esProcess(ctx, HEAP)],

  async ready() {
    // Over HTTPS with the CA and the password: proves the listener serves the test PKI and the credentials work.
    const r = await esTlsRequest('GET', '/_cluster/health?wait_for_status=yellow&timeout=1s');
    if (r.status === 200 && /"status":"(green|yellow)"/.test(r.body)) return true;
    return r.status === 0 ? `GET https /_cluster/health: ${r.body}` : `GET https /_cluster/health: HTTP ${r.status} ${r.body.slice(0, 200)}`;
  },
};

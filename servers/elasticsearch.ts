/**
 * Elasticsearch 8.19 (integ-test-zip distribution from Maven Central) on 127.0.0.1:9200, single node, security
 * off. The integ-test zip has no bundled JDK (Java 17 from the machine is used) and only the transport, apm,
 * x-pack-core and x-pack-security modules: CRUD, bulk, search, aggregations, mappings and index templates work;
 * painless scripts, `_update_by_query`/`_reindex`, ingest processors, analysis-common analyzers and data streams
 * do not. The 8.x npm client matches this server; a 9.x client is refused (compatible-with=9).
 *
 * Elasticsearch refuses to run as root: as root the harness runs it as the system user `fintrans-es` (created
 * with useradd when missing) and hands it the config, data, log and temp directories.
 *
 * servers/elasticsearch-tls.ts runs a second node from the same zip with security on; what both need (fetch,
 * layout, config, process) is exported from here.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMaven, run } from './fetch.ts';
import { findJava } from './java.ts';
import type { Ctx, ProcSpec, ServerDef } from './layout.ts';
import { HOST, http } from './probe.ts';

export const ES_VERSION = '8.19.21';
export const ELASTICSEARCH_PORT = 9200;
const TRANSPORT_PORT = 9300;
export const ES_USER = 'fintrans-es';
const HEAP = '512m';

export const esHome = (ctx: Ctx) => join(ctx.libs, `elasticsearch-${ES_VERSION}`);
export const esConf = (ctx: Ctx) => join(ctx.conf, 'es'); // ES_PATH_CONF; ES itself writes its keystore here
const esLogs = (ctx: Ctx) => join(ctx.logs, 'es'); // ES's own log files (stdout is logs/elasticsearch.log)
const esTmp = (ctx: Ctx) => join(ctx.dir, 'tmp');

/** uid/gid to run as: ourselves when not root, else the dedicated system user (created on first use). */
export function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, ES_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ES_USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`elasticsearch cannot run as root and \`useradd ${ES_USER}\` failed: ${r.stderr || r.error}`);
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

export interface EsNode {
  readonly clusterName: string;
  readonly httpPort: number;
  readonly transportPort: number;
  /** elasticsearch.yml lines of the `xpack.security` settings. */
  readonly security: string;
}

const PLAIN: EsNode = { clusterName: 'fintrans-agent-test', httpPort: ELASTICSEARCH_PORT, transportPort: TRANSPORT_PORT, security: 'xpack.security.enabled: false' };

function config(ctx: Ctx, node: EsNode): string {
  return `# written by servers/${ctx.name}.ts on every start
cluster.name: ${node.clusterName}
node.name: node-1
discovery.type: single-node
network.host: ${HOST}
http.port: ${node.httpPort}
transport.port: ${node.transportPort}
path.data: ${ctx.data}
path.logs: ${esLogs(ctx)}
${node.security}
# a fuller disk must not turn test indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
node.store.allow_mmap: false
action.destructive_requires_name: false
`;
}

/** Downloads the integ-test zip (Maven Central) and unpacks it into `libs/` once. */
export async function fetchElasticsearch(ctx: Ctx): Promise<void> {
  const zip = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
  await fetchMaven(ctx, { deps: [zip], transitive: false });
  if (existsSync(join(esHome(ctx), 'bin', 'elasticsearch'))) return;
  // unzip, not `jar xf`: it keeps the exec bits of bin/*. Into a temp dir first so a partial unzip never counts.
  const tmp = join(ctx.dir, 'unzip.tmp');
  rmSync(tmp, { recursive: true, force: true });
  await run(ctx, 'unzip', ['-q', join(ctx.libs, `elasticsearch-${ES_VERSION}.zip`), '-d', tmp]);
  cpSync(join(tmp, `elasticsearch-${ES_VERSION}`), esHome(ctx), { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * Writes the config directory and elasticsearch.yml and creates the data, log and temp directories.
 * `beforeChown` adds files to the config directory (certificates, keystore) before it is handed to the ES user.
 */
export async function configureElasticsearch(ctx: Ctx, fresh: boolean, node: EsNode, beforeChown?: (conf: string) => Promise<void>): Promise<void> {
  const user = runAs();
  if (user && spawnSync('test', ['-x', ctx.dir], { uid: user.uid, gid: user.gid }).status !== 0) {
    throw new Error(`elasticsearch runs as user ${ES_USER}, who cannot reach ${ctx.dir}; move the checkout ` +
      'out of a private home directory or set SERVERS_DIR to a directory every user can traverse (e.g. under /tmp)');
  }
  if (fresh) rmSync(ctx.data, { recursive: true, force: true });
  for (const dir of [ctx.data, esLogs(ctx), esTmp(ctx)]) mkdirSync(dir, { recursive: true });
  cpSync(join(esHome(ctx), 'config'), esConf(ctx), { recursive: true });
  writeFileSync(join(esConf(ctx), 'elasticsearch.yml'), config(ctx, node));
  await beforeChown?.(esConf(ctx));
  if (user) {
    for (const dir of [esConf(ctx), ctx.data, esLogs(ctx), esTmp(ctx)]) await run(ctx, 'chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  }
}

/** Environment of bin/elasticsearch and the bin/elasticsearch-* tools. */
export function esEnv(ctx: Ctx, heap: string): Record<string, string> {
  const java = findJava();
  return {
    ES_JAVA_HOME: 'home' in java ? java.home : '',
    ES_JAVA_OPTS: `-Xms${heap} -Xmx${heap}`, // otherwise ES sizes its heap to half the machine's RAM
    ES_PATH_CONF: esConf(ctx),
    ES_TMPDIR: esTmp(ctx),
    HOME: esTmp(ctx),
  };
}

export function esProcess(ctx: Ctx, heap: string): ProcSpec {
  const user = runAs();
  return { id: 'elasticsearch', cmd: join(esHome(ctx), 'bin', 'elasticsearch'), args: [], env: esEnv(ctx, heap), ...(user ? { uid: user.uid, gid: user.gid } : {}) };
}

export const elasticsearch: ServerDef = {
  name: 'elasticsearch',
  version: `Elasticsearch ${ES_VERSION} (integ-test-zip)`,
  ports: [ELASTICSEARCH_PORT, TRANSPORT_PORT],
  needsJava: true,
  readyTimeoutMs: 180_000,

  fetch: fetchElasticsearch,
  configure: (ctx, fresh) => configureElasticsearch(ctx, fresh, PLAIN),
  processes: (ctx) => [esProcess(ctx, HEAP)],

  async ready() {
    const r = await http(ELASTICSEARCH_PORT, '/_cluster/health?wait_for_status=yellow&timeout=1s');
    if (r.status === 200 && /"status":"(green|yellow)"/.test(r.body)) return true;
    return r.status === 0 ? `GET /_cluster/health: ${r.body}` : `GET /_cluster/health: HTTP ${r.status} ${r.body.slice(0, 200)}`;
  },
};

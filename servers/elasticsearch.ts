/**
 * Elasticsearch 8.19 (integ-test-zip distribution from Maven Central) on 127.0.0.1:9200, single node, security
 * off. The integ-test zip has no bundled JDK (Java 17 from the machine is used) and only the transport, apm,
 * x-pack-core and x-pack-security modules: CRUD, bulk, search, aggregations, mappings and index templates work;
 * painless scripts, `_update_by_query`/`_reindex`, ingest processors, analysis-common analyzers and data streams
 * do not. The 8.x npm client matches this server; a 9.x client is refused (compatible-with=9).
 *
 * Elasticsearch refuses to run as root: as root the harness runs it as the system user `fintrans-es` (created
 * with useradd when missing) and hands it the config, data, log and temp directories.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMaven, run } from './fetch.ts';
import { findJava } from './java.ts';
import type { Ctx, ServerDef } from './layout.ts';
import { HOST, http } from './probe.ts';

const VERSION = '8.19.21';
export const ELASTICSEARCH_PORT = 9200;
const TRANSPORT_PORT = 9300;
const ES_USER = 'fintrans-es';
const HEAP = '512m';

const home = (ctx: Ctx) => join(ctx.libs, `elasticsearch-${VERSION}`);
const esConf = (ctx: Ctx) => join(ctx.conf, 'es'); // ES_PATH_CONF; ES itself writes its keystore here
const esLogs = (ctx: Ctx) => join(ctx.logs, 'es'); // ES's own log files (stdout is logs/elasticsearch.log)
const esTmp = (ctx: Ctx) => join(ctx.dir, 'tmp');

/** uid/gid to run as: ourselves when not root, else the dedicated system user (created on first use). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, ES_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ES_USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`elasticsearch cannot run as root and \`useradd ${ES_USER}\` failed: ${r.stderr || r.error}`);
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

function config(ctx: Ctx): string {
  return `# written by servers/elasticsearch.ts on every start
cluster.name: fintrans-agent-test
node.name: node-1
discovery.type: single-node
network.host: ${HOST}
http.port: ${ELASTICSEARCH_PORT}
transport.port: ${TRANSPORT_PORT}
path.data: ${ctx.data}
path.logs: ${esLogs(ctx)}
xpack.security.enabled: false
# a fuller disk must not turn test indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
node.store.allow_mmap: false
action.destructive_requires_name: false
`;
}

export const elasticsearch: ServerDef = {
  name: 'elasticsearch',
  version: `Elasticsearch ${VERSION} (integ-test-zip)`,
  ports: [ELASTICSEARCH_PORT, TRANSPORT_PORT],
  needsJava: true,
  readyTimeoutMs: 180_000,

  async fetch(ctx) {
    const zip = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${VERSION}:zip`;
    await fetchMaven(ctx, { deps: [zip], transitive: false });
    if (existsSync(join(home(ctx), 'bin', 'elasticsearch'))) return;
    // unzip, not `jar xf`: it keeps the exec bits of bin/*. Into a temp dir first so a partial unzip never counts.
    const tmp = join(ctx.dir, 'unzip.tmp');
    rmSync(tmp, { recursive: true, force: true });
    await run(ctx, 'unzip', ['-q', join(ctx.libs, `elasticsearch-${VERSION}.zip`), '-d', tmp]);
    cpSync(join(tmp, `elasticsearch-${VERSION}`), home(ctx), { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
  },

  async configure(ctx, fresh) {
    const user = runAs();
    if (user && spawnSync('test', ['-x', ctx.dir], { uid: user.uid, gid: user.gid }).status !== 0) {
      throw new Error(`elasticsearch runs as user ${ES_USER}, who cannot reach ${ctx.dir}; move the checkout ` +
        'out of a private home directory or set SERVERS_DIR to a directory every user can traverse (e.g. under /tmp)');
    }
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    for (const dir of [ctx.data, esLogs(ctx), esTmp(ctx)]) mkdirSync(dir, { recursive: true });
    cpSync(join(home(ctx), 'config'), esConf(ctx), { recursive: true });
    writeFileSync(join(esConf(ctx), 'elasticsearch.yml'), config(ctx));
    if (user) {
      for (const dir of [esConf(ctx), ctx.data, esLogs(ctx), esTmp(ctx)]) await run(ctx, 'chown', ['-R', `${user.uid}:${user.gid}`, dir]);
    }
  },

  processes(ctx) {
    const user = runAs();
    const java = findJava();
    return [
      {
        id: 'elasticsearch',
        cmd: join(home(ctx), 'bin', 'elasticsearch'),
        args: [],
        env: {
          ES_JAVA_HOME: 'home' in java ? java.home : '',
          ES_JAVA_OPTS: `-Xms${HEAP} -Xmx${HEAP}`, // otherwise ES sizes its heap to half the machine's RAM
          ES_PATH_CONF: esConf(ctx),
          ES_TMPDIR: esTmp(ctx),
          HOME: esTmp(ctx),
        },
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      },
    ];
  },

  async ready() {
    const r = await http(ELASTICSEARCH_PORT, '/_cluster/health?wait_for_status=yellow&timeout=1s');
    if (r.status === 200 && /"status":"(green|yellow)"/.test(r.body)) return true;
    return r.status === 0 ? `GET /_cluster/health: ${r.body}` : `GET /_cluster/health: HTTP ${r.status} ${r.body.slice(0, 200)}`;
  },
};

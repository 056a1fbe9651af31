/**
 * QuestDB: the InfluxDB-v2-write-compatible target (POST /api/v2/write, ILP over HTTP) plus SQL over
 * GET /exec, on 127.0.0.1:9000; PGWire on 8812 and ILP/TCP on 9009, also loopback only.
 *
 * A single dependency-free jar with its native libraries inside, started on the module path. The version is
 * the newest on Maven Central; >= 9.1.0 matters because the InfluxDB client gzips bodies over 1000 bytes and
 * older QuestDB rejected `Content-Encoding: gzip`. Tables created by ILP are WAL tables: rows become visible a
 * moment after the 204, so tests must poll /exec for the expected count.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMaven } from './fetch.ts';
import type { ServerDef } from './layout.ts';
import { HOST, http } from './probe.ts';

const VERSION = '9.3.4';
export const QUESTDB_HTTP_PORT = 9000;
const PG_PORT = 8812;
const ILP_TCP_PORT = 9009;

const SERVER_CONF = `# written by servers/questdb.ts on every start
http.bind.to=${HOST}:${QUESTDB_HTTP_PORT}
http.min.enabled=false
pg.net.bind.to=${HOST}:${PG_PORT}
line.tcp.net.bind.to=${HOST}:${ILP_TCP_PORT}
line.udp.enabled=false
telemetry.enabled=false
`;

// Log to stdout only (the harness keeps it in logs/questdb.log); the default also writes files under the root.
const LOG_CONF = `writers=stdout
w.stdout.class=io.questdb.log.LogConsoleWriter
w.stdout.level=INFO,ERROR,CRITICAL,ADVISORY
`;

export const questdb: ServerDef = {
  name: 'questdb',
  version: `QuestDB ${VERSION}`,
  ports: [QUESTDB_HTTP_PORT, PG_PORT, ILP_TCP_PORT],
  needsJava: true,
  readyTimeoutMs: 60_000,

  fetch: (ctx) => fetchMaven(ctx, { deps: [`org.questdb:questdb:${VERSION}`], transitive: false }),

  async configure(ctx, fresh) {
    // QuestDB's root directory (-d) holds conf/ and db/; the data directory is that root.
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    mkdirSync(join(ctx.data, 'conf'), { recursive: true });
    writeFileSync(join(ctx.data, 'conf', 'server.conf'), SERVER_CONF);
    writeFileSync(join(ctx.data, 'conf', 'log.conf'), LOG_CONF);
  },

  processes: (ctx) => [
    {
      id: 'questdb',
      cmd: ctx.java,
      args: [
        // QuestDB keeps its data off-heap; the heap only serves queries and ingestion buffers.
        '-Xms512m', '-Xmx1g', '-XX:+UseParallelGC',
        '--add-exports', 'java.base/jdk.internal.math=io.questdb',
        // JVM options must precede -p/-m: everything after the module goes to ServerMain.
        '-p', join(ctx.libs, `questdb-${VERSION}.jar`),
        '-m', 'io.questdb/io.questdb.ServerMain',
        '-d', ctx.data,
      ],
    },
  ],

  async ready() {
    // A real SQL round trip, not just /ping: the engine is up and the HTTP query path works.
    const r = await http(QUESTDB_HTTP_PORT, `/exec?query=${encodeURIComponent('select 1')}`);
    if (r.status === 200 && r.body.includes('"dataset"')) return true;
    return r.status === 0 ? `GET /exec: ${r.body}` : `GET /exec: HTTP ${r.status} ${r.body.slice(0, 200)}`;
  },
};

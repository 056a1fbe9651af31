/**
 * HDFS: one NameNode (RPC 127.0.0.1:8020, HTTP/WebHDFS 9870, HTTPS/WebHDFS 9871) and one DataNode (HTTP 9864,
 * HTTPS 9865, data 9866, IPC 9867), two JVMs from the same Maven jars.
 *
 * Hadoop 3.5.0 is the first release whose servers officially run on Java 17. Jar notes: hadoop-common and
 * hadoop-hdfs-client are `provided` in hadoop-hdfs's POM, so they are listed explicitly; the web applications the
 * NameNode/DataNode HTTP servers load from the classpath (`webapps/hdfs`, `webapps/datanode`) are not in the
 * main jar but in the `tests` jar, hence that one too (it holds no configuration resources that could interfere).
 *
 * WebHDFS writes are redirected (307) to the DataNode's advertised host: `dfs.datanode.hostname=127.0.0.1` keeps
 * that on loopback whatever the machine's host name resolves to.
 *
 * HTTP and HTTPS both serve (`dfs.http.policy=HTTP_AND_HTTPS`), so the plain tests keep their ports and the TLS
 * tests (swebhdfs) get theirs. A WebHDFS call on the NameNode's HTTPS port is redirected to the DataNode's HTTPS
 * port: the NameNode picks the redirect's scheme from the request. Both read their keystore from `ssl-server.xml`,
 * found on the classpath through the conf dir; it holds the keystore password, so it is written owner-only.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { fetchMaven, run } from './fetch.ts';
import type { Ctx, ProcSpec, ServerDef } from './layout.ts';
import { HOST, http, tcpOpen, type HttpResult } from './probe.ts';
import { ensureTls, keystorePassword, tlsFiles } from './tls.ts';

const VERSION = '3.5.0';
export const NAMENODE_RPC_PORT = 8020;
export const NAMENODE_HTTP_PORT = 9870;
export const DATANODE_HTTP_PORT = 9864;
export const NAMENODE_HTTPS_PORT = 9871;
export const DATANODE_HTTPS_PORT = 9865;
const HEAP = '384m';

// Hadoop's own launcher scripts add these opens on Java 17 (reflection into JDK internals); harmless if unused.
const OPENS = ['java.io', 'java.lang', 'java.lang.reflect', 'java.math', 'java.net', 'java.nio', 'java.text', 'java.util',
  'java.util.concurrent', 'java.util.zip', 'sun.nio.ch', 'sun.net.util', 'sun.security.util', 'sun.security.x509']
  .map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`);

function site(props: Record<string, string | number | boolean>): string {
  const entries = Object.entries(props).map(([k, v]) => `  <property><name>${k}</name><value>${v}</value></property>`);
  return `<?xml version="1.0"?>\n<!-- written by servers/hdfs.ts on every start -->\n<configuration>\n${entries.join('\n')}\n</configuration>\n`;
}

function writeConfig(ctx: Ctx): void {
  writeFileSync(join(ctx.conf, 'core-site.xml'), site({
    'fs.defaultFS': `hdfs://${HOST}:${NAMENODE_RPC_PORT}`,
    'hadoop.tmp.dir': join(ctx.data, 'tmp'),
    'hadoop.http.staticuser.user': 'root', // WebHDFS calls without user.name act as root, not "dr.who"
  }));
  writeFileSync(join(ctx.conf, 'hdfs-site.xml'), site({
    'dfs.replication': 1,
    'dfs.namenode.name.dir': `file://${join(ctx.data, 'name')}`,
    'dfs.datanode.data.dir': `file://${join(ctx.data, 'data')}`,
    'dfs.permissions.enabled': false,
    'dfs.webhdfs.enabled': true,
    'dfs.namenode.rpc-address': `${HOST}:${NAMENODE_RPC_PORT}`,
    'dfs.http.policy': 'HTTP_AND_HTTPS',
    'dfs.namenode.http-address': `${HOST}:${NAMENODE_HTTP_PORT}`,
    'dfs.namenode.https-address': `${HOST}:${NAMENODE_HTTPS_PORT}`,
    'dfs.namenode.secondary.http-address': `${HOST}:9868`,
    'dfs.datanode.address': `${HOST}:9866`,
    'dfs.datanode.http.address': `${HOST}:${DATANODE_HTTP_PORT}`,
    'dfs.datanode.https.address': `${HOST}:${DATANODE_HTTPS_PORT}`,
    'dfs.datanode.ipc.address': `${HOST}:9867`,
    'dfs.datanode.hostname': HOST,
    'dfs.namenode.datanode.registration.ip-hostname-check': false,
    'dfs.namenode.safemode.extension': 0, // default: 30 s in safe mode after the block threshold is reached
    'dfs.namenode.safemode.min.datanodes': 0,
    'dfs.datanode.heartbeat.interval': 1, // seconds; a restarted DataNode re-registers faster
    // One DataNode: there is never another one to replace a failed pipeline member (appends would fail).
    'dfs.client.block.write.replace-datanode-on-failure.enable': false,
    // WebHDFS writes go through a DFSClient inside the DataNode, whose close() asks the NameNode to complete the
    // file and, when the DataNode's block-received report has not arrived yet (usually a few ms later), sleeps
    // 400 ms before asking again: every other append took 0.45 s instead of 0.04 s ("is COMMITTED but not
    // COMPLETE" in the NameNode log). Ask again after 25 ms, doubling, with more tries so the total wait allowed
    // (about 51 s) stays above the default's (25 s).
    'dfs.client.block.write.locateFollowingBlock.initial.delay.ms': 25,
    'dfs.client.block.write.locateFollowingBlock.retries': 11,
  }));
  // The name Hadoop looks up on the classpath (dfs.https.server.keystore.resource). A PKCS12 entry's key has the
  // store's password. No truststore: the servers ask for no client certificate.
  const password = keystorePassword();
  writeFileSync(join(ctx.conf, 'ssl-server.xml'), site({
    'ssl.server.keystore.location': tlsFiles.serverKeystore,
    'ssl.server.keystore.type': 'pkcs12',
    'ssl.server.keystore.password': password,
    'ssl.server.keystore.keypassword': password,
  }), { mode: 0o600 });
  writeFileSync(join(ctx.conf, 'log4j.properties'), [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n',
    'log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR',
    '',
  ].join('\n'));
}

function javaArgs(ctx: Ctx, mainClass: string, ...args: string[]): string[] {
  return [
    `-Xms${HEAP}`, `-Xmx${HEAP}`, '-XX:+IgnoreUnrecognizedVMOptions', ...OPENS,
    '-Djava.net.preferIPv4Stack=true', `-Dhadoop.home.dir=${ctx.dir}`, `-Dhadoop.log.dir=${ctx.logs}`,
    `-Djava.io.tmpdir=${join(ctx.data, 'tmp')}`, // Jetty unpacks its web apps there: keep them out of /tmp
    '-cp', `${ctx.conf}:${join(ctx.libs, '*')}`, // conf first: our *-site.xml and log4j.properties win
    mainClass, ...args,
  ];
}

/** One HTTPS request to 127.0.0.1 trusting the test CA; never throws (a failure is status 0 with the error as body). */
function httpsGet(port: number, path: string, timeoutMs = 3000): Promise<HttpResult> {
  return new Promise((resolve) => {
    const req = https.get({ host: HOST, port, path, ca: readFileSync(tlsFiles.caCert), agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer for ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: e.code ?? e.message }));
  });
}

type FsState = { NumLiveDataNodes?: number; CapacityRemaining?: number; FSState?: string };

export const hdfs: ServerDef = {
  name: 'hdfs',
  version: `Apache Hadoop ${VERSION} HDFS (NameNode + DataNode)`,
  ports: [NAMENODE_RPC_PORT, NAMENODE_HTTP_PORT, NAMENODE_HTTPS_PORT, DATANODE_HTTP_PORT, DATANODE_HTTPS_PORT, 9866, 9867],
  needsJava: true,
  readyTimeoutMs: 120_000,

  fetch: (ctx) =>
    fetchMaven(ctx, {
      deps: ['hadoop-hdfs', 'hadoop-hdfs-client', 'hadoop-common'].map((a) => `org.apache.hadoop:${a}:${VERSION}`)
        .concat(`org.apache.hadoop:hadoop-hdfs:${VERSION}:test-jar`),
    }),

  async configure(ctx, fresh) {
    await ensureTls(ctx);
    writeConfig(ctx);
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    mkdirSync(join(ctx.data, 'tmp'), { recursive: true });
    if (existsSync(join(ctx.data, 'name', 'current', 'VERSION'))) return;
    rmSync(join(ctx.data, 'data'), { recursive: true, force: true }); // a new namespace rejects old DataNode storage
    await run(ctx, ctx.java, javaArgs(ctx, 'org.apache.hadoop.hdfs.server.namenode.NameNode', '-format', '-force', '-nonInteractive'));
  },

  processes: (ctx): ProcSpec[] => [
    { id: 'namenode', cmd: ctx.java, args: javaArgs(ctx, 'org.apache.hadoop.hdfs.server.namenode.NameNode') },
    { id: 'datanode', cmd: ctx.java, args: javaArgs(ctx, 'org.apache.hadoop.hdfs.server.datanode.DataNode') },
  ],

  async ready() {
    const jmx = await http(NAMENODE_HTTP_PORT, '/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState');
    if (jmx.status !== 200) return jmx.status === 0 ? `NameNode JMX: ${jmx.body}` : `NameNode JMX: HTTP ${jmx.status}`;
    const state = ((JSON.parse(jmx.body) as { beans: FsState[] }).beans[0] ?? {}) as FsState;
    if (state.NumLiveDataNodes !== 1) return `NumLiveDataNodes=${state.NumLiveDataNodes ?? '?'}`;
    if (!(Number(state.CapacityRemaining) > 0)) return 'DataNode has not reported its capacity yet';
    if (state.FSState !== 'Operational') return `NameNode is ${state.FSState ?? '?'} (safe mode)`;
    const stat = await http(NAMENODE_HTTP_PORT, '/webhdfs/v1/?op=GETFILESTATUS&user.name=root');
    if (stat.status !== 200) return `WebHDFS GETFILESTATUS /: HTTP ${stat.status} ${stat.body.slice(0, 200)}`;
    const secure = await httpsGet(NAMENODE_HTTPS_PORT, '/webhdfs/v1/?op=GETFILESTATUS&user.name=root');
    if (secure.status !== 200) return `WebHDFS over HTTPS :${NAMENODE_HTTPS_PORT}: ${secure.status === 0 ? secure.body : `HTTP ${secure.status}`}`;
    if (!(await tcpOpen(DATANODE_HTTP_PORT))) return `DataNode HTTP ${HOST}:${DATANODE_HTTP_PORT} not listening`;
    // Any HTTP status will do: it proves the TLS handshake with a certificate the test CA vouches for.
    const dn = await httpsGet(DATANODE_HTTPS_PORT, '/');
    return dn.status !== 0 ? true : `DataNode HTTPS ${HOST}:${DATANODE_HTTPS_PORT}: ${dn.body}`;
  },
};

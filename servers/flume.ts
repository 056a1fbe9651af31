/**
 * Apache Flume 1.11.0 (the last release) for performance comparisons: the jars plus a launcher that starts an
 * agent from a properties file with Flume's JSON monitoring (`GET /metrics` on the monitor port).
 *
 * `npm run servers -- up flume` starts a demo agent (spooldir .servers/flume/data/spool -> memory -> null,
 * monitor port 34545), or the agent in SERVERS_FLUME_CONF (agent name SERVERS_FLUME_AGENT, default `agent`).
 * Benchmarks start their own agents with `startFlumeAgent`; `down flume` stops those too.
 *
 * Jars: log4j-core/log4j-slf4j-impl are only test-scoped in Flume's POM and the Hadoop client is optional in
 * flume-hdfs-sink, so they are added here (the shaded hadoop-client-api/runtime 3.5.0, matching the HDFS server
 * and clashing with nothing). The Kafka source/sink bring kafka-clients 2.7.2, which talks to the 3.9 broker.
 * The monitoring server always binds 0.0.0.0 (Flume has no bind-address setting for it).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchMaven } from './fetch.ts';
import { findJava } from './java.ts';
import { ServerUnavailable, createDirs, makeCtx, type Ctx, type ProcSpec, type ServerDef } from './layout.ts';
import { http } from './probe.ts';
import { isRunning, launch, logFile, pidFile, stopProcess, tail } from './proc.ts';

const VERSION = '1.11.0';
export const FLUME_MONITOR_PORT = 34545;
const HEAP = '512m'; // the stock flume-ng script uses -Xmx20m, far too small for a throughput run

const OPENS = ['java.lang', 'java.lang.reflect', 'java.io', 'java.net', 'java.nio', 'java.util', 'java.util.concurrent', 'sun.nio.ch']
  .map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`);

const LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by servers/flume.ts: everything to stdout, which the harness appends to logs/<agent>.log -->
<Configuration status="ERROR">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="%d{ISO8601} %-5p [%t] %c{1}: %m%n"/></Console></Appenders>
  <Loggers><Root level="INFO"><AppenderRef ref="out"/></Root></Loggers>
</Configuration>
`;

function demoConf(ctx: Ctx): string {
  return `# written by servers/flume.ts: the demo agent of \`npm run servers -- up flume\`
agent.sources = src
agent.channels = ch
agent.sinks = sink
agent.sources.src.type = spooldir
agent.sources.src.spoolDir = ${join(ctx.data, 'spool')}
agent.sources.src.batchSize = 1000
agent.sources.src.channels = ch
agent.channels.ch.type = memory
agent.channels.ch.capacity = 100000
agent.channels.ch.transactionCapacity = 1000
agent.sinks.sink.type = null
agent.sinks.sink.batchSize = 1000
agent.sinks.sink.channel = ch
`;
}

const fetchFlume = (ctx: Ctx) =>
  fetchMaven(ctx, {
    deps: [
      `org.apache.flume:flume-ng-node:${VERSION}`,
      `org.apache.flume.flume-ng-sinks:flume-hdfs-sink:${VERSION}`,
      `org.apache.flume.flume-ng-sinks:flume-ng-kafka-sink:${VERSION}`,
      `org.apache.flume.flume-ng-sources:flume-kafka-source:${VERSION}`,
      'org.apache.logging.log4j:log4j-core:2.18.0',
      'org.apache.logging.log4j:log4j-slf4j-impl:2.18.0',
      'org.apache.hadoop:hadoop-client-api:3.5.0',
      'org.apache.hadoop:hadoop-client-runtime:3.5.0',
    ],
  });

export interface AgentOptions {
  /** Flume properties file. */
  readonly conf: string;
  /** The agent name used as the properties' prefix (`-n`). */
  readonly agentName?: string;
  readonly monitorPort?: number;
  /** Names the PID and log files (`.servers/flume/{run,logs}/<id>.*`); default `agent-<monitorPort>`. */
  readonly id?: string;
}

function agentSpec(ctx: Ctx, opts: AgentOptions): ProcSpec {
  const port = opts.monitorPort ?? FLUME_MONITOR_PORT;
  return {
    id: opts.id ?? `agent-${port}`,
    cmd: ctx.java,
    args: [
      `-Xms${HEAP}`, `-Xmx${HEAP}`, ...OPENS,
      `-Dlog4j.configurationFile=${join(ctx.conf, 'log4j2.xml')}`,
      '-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${port}`,
      '-cp', `${ctx.conf}:${join(ctx.libs, '*')}`,
      'org.apache.flume.node.Application', '-n', opts.agentName ?? 'agent', '-f', opts.conf, '--no-reload-conf',
    ],
  };
}

export type FlumeMetrics = Record<string, Record<string, string>>;

/** Ready once the monitor answers with the agent's components (`CHANNEL.x`, `SOURCE.y`, …). */
async function metricsReady(port: number): Promise<true | string> {
  const r = await http(port, '/metrics');
  if (r.status !== 200) return r.status === 0 ? `GET :${port}/metrics: ${r.body}` : `GET :${port}/metrics: HTTP ${r.status}`;
  return Object.keys(JSON.parse(r.body) as FlumeMetrics).some((k) => k.startsWith('CHANNEL.')) ? true : 'no channel started yet';
}

export interface FlumeAgent {
  readonly pid: number;
  readonly monitorPort: number;
  readonly log: string;
  metrics(): Promise<FlumeMetrics>;
  /** SIGTERM (Flume's shutdown hook stops the components), SIGKILL after 30 s. */
  stop(): Promise<void>;
}

/** Fetches Flume if needed and starts an agent; resolves when its monitoring shows the channel. */
export async function startFlumeAgent(opts: AgentOptions): Promise<FlumeAgent> {
  const java = findJava();
  if ('reason' in java) throw new ServerUnavailable(`flume needs Java: ${java.reason}`);
  const ctx = makeCtx('flume', java.java);
  createDirs(ctx);
  await fetchFlume(ctx);
  writeFileSync(join(ctx.conf, 'log4j2.xml'), LOG4J2);
  const spec = agentSpec(ctx, opts);
  const port = opts.monitorPort ?? FLUME_MONITOR_PORT;
  const rec = await launch(ctx, spec, true);
  const stop = async () => {
    await stopProcess(rec, 30_000);
    rmSync(pidFile(ctx, spec.id), { force: true });
  };
  let last = '';
  for (const deadline = Date.now() + flume.readyTimeoutMs; Date.now() < deadline; await sleep(250)) {
    if (!isRunning(rec)) break;
    const r = await metricsReady(port);
    if (r === true) {
      const metrics = async () => JSON.parse((await http(port, '/metrics')).body) as FlumeMetrics;
      return { pid: rec.pid, monitorPort: port, log: logFile(ctx, spec.id), metrics, stop };
    }
    last = r;
  }
  await stop();
  throw new Error(`flume agent ${spec.id} did not start (${last || 'exited'}):\n${tail(logFile(ctx, spec.id), 50)}`);
}

export const flume: ServerDef = {
  name: 'flume',
  version: `Apache Flume ${VERSION} (agent from ${process.env.SERVERS_FLUME_CONF ?? 'the demo spooldir -> memory -> null conf'})`,
  ports: [FLUME_MONITOR_PORT],
  needsJava: true,
  readyTimeoutMs: 60_000,
  fetch: fetchFlume,

  async configure(ctx, fresh) {
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    mkdirSync(join(ctx.data, 'spool'), { recursive: true });
    writeFileSync(join(ctx.conf, 'log4j2.xml'), LOG4J2);
    writeFileSync(join(ctx.conf, 'demo-agent.properties'), demoConf(ctx));
  },

  processes: (ctx) => [
    agentSpec(ctx, {
      id: 'flume',
      conf: process.env.SERVERS_FLUME_CONF ?? join(ctx.conf, 'demo-agent.properties'),
      agentName: process.env.SERVERS_FLUME_AGENT ?? 'agent',
    }),
  ],

  ready: () => metricsReady(FLUME_MONITOR_PORT),
};

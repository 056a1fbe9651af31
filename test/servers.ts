/**
 * Real servers for integration tests (README, "Servers for tests"). Usage in a test file:
 *
 *   const servers = await ensureServers(['kafka']);          // top level: starts or reuses the broker
 *   describe.skipIf(!servers.ok)('kafka sink', () => { … }); // skipped only locally, and only without Java
 *
 * Under CI (`CI` set and not "false"/"0") nothing is ever skipped: a server that cannot start throws, with the
 * last 50 lines of its log in the message. Servers started during a test run are stopped by
 * test/global-setup.ts at the end of the run (unless SERVERS_KEEP=1); servers that were already up are reused
 * and left running.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerUnavailable, down, up } from '../servers/harness.ts';
import { serverDir } from '../servers/layout.ts';
import { kafkaSecurity } from '../servers/kafka.ts';
import { serverDef } from '../servers/registry.ts';

export { setPrometheusTargets, waitForPrometheusTarget } from '../servers/prometheus.ts';
export { startFlumeAgent, type FlumeAgent } from '../servers/flume.ts';

export type ServersStatus = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Where the servers listen (always 127.0.0.1: `localhost` may resolve to ::1 first elsewhere). */
export const endpoints = {
  /** `tls`: mutual-TLS listener; `sasl`: SASL_SSL listener with its users (CA and password files exist once up). */
  kafka: { brokers: ['127.0.0.1:9092'], tls: kafkaSecurity.ssl, sasl: kafkaSecurity.sasl },
  questdb: { url: 'http://127.0.0.1:9000', pgPort: 8812 },
  influxdb: { url: 'http://127.0.0.1:8086', database: 'fintrans' },
  prometheus: { url: 'http://127.0.0.1:9090' },
  elasticsearch: { url: 'http://127.0.0.1:9200' },
  hdfs: { fsUri: 'hdfs://127.0.0.1:8020', webhdfs: 'http://127.0.0.1:9870/webhdfs/v1', user: 'root' },
} as const;

/**
 * Set by test/global-setup.ts to an id of its own run. A server a worker of this run started is marked with it, so
 * the teardown stops exactly those: never a server another run (a second checkout's `npm test`, a person's
 * `npm run servers -- up`) started meanwhile.
 */
export const RUN_ID_ENV = 'FTA_TEST_RUN_ID';
const startedMark = (name: string) => join(serverDir(name), 'run', 'started-by-test-run');

function markStarted(name: string): void {
  const run = process.env[RUN_ID_ENV];
  if (run) writeFileSync(startedMark(name), run);
}

/** Whether this run (by its id) started the server, as opposed to reusing one that was up. */
export function startedByRun(name: string, run: string): boolean {
  try {
    return readFileSync(startedMark(name), 'utf8') === run;
  } catch {
    return false;
  }
}

/** Set by test/global-setup.ts when no Java was found, so workers skip quietly after its one notice. */
export const NO_JAVA_ENV = 'FTA_SERVERS_NO_JAVA';

export function underCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

const noticed = new Set<string>();

/**
 * Starts (or reuses) the named servers, one after the other. Resolves `{ ok: false, reason }` only outside CI
 * and only when a prerequisite such as Java or Maven is missing; every other failure throws.
 */
export async function ensureServers(names: readonly string[]): Promise<ServersStatus> {
  const noJava = process.env[NO_JAVA_ENV];
  if (noJava && !underCI() && names.some((n) => serverDef(n).needsJava)) return { ok: false, reason: noJava };
  try {
    for (const name of names) {
      const { outcome } = await up(name);
      if (outcome === 'started') markStarted(name);
    }
    return { ok: true };
  } catch (e) {
    if (!(e instanceof ServerUnavailable)) throw e;
    if (underCI()) throw new Error(`${e.message} (CI is set: integration tests fail instead of being skipped)`, { cause: e });
    if (!noticed.has(e.message)) {
      noticed.add(e.message);
      console.warn(`[servers] skipping integration tests that need ${names.join(', ')}: ${e.message} (CI is not set)`);
    }
    return { ok: false, reason: e.message };
  }
}

/**
 * Stops a server mid-test, keeping its data; `signal: 'SIGKILL'` simulates a crash instead of a clean shutdown.
 * Resolves when every process of the server has exited.
 */
export async function stopServer(name: string, opts: { signal?: NodeJS.Signals } = {}): Promise<void> {
  await down(name, opts);
}

/** Starts a server stopped by `stopServer` again on the same ports and data; resolves when it is ready. */
export async function startServer(name: string): Promise<void> {
  await up(name, { keepData: true });
}

/**
 * The server harness: `up` (probe first, reuse what is already up, else fetch, configure, start and wait for the
 * real readiness probe), `down` (by saved PIDs: SIGTERM, then SIGKILL after a timeout) and `status`.
 *
 * Test workers run in parallel and may all ask for the same server, so every operation on a server holds its
 * lock file (`.servers/<name>/lock`, containing the holder's PID; a dead holder's lock is taken over).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findJava } from './java.ts';
import { ServerUnavailable, createDirs, makeCtx, type Ctx, type ServerDef } from './layout.ts';
import { tcpOpen } from './probe.ts';
import { groupRss, isRunning, launch, logFile, pidFile, readPidRecords, stopProcess, tail, type PidRecord } from './proc.ts';
import { SERVERS, serverDef } from './registry.ts';

export { ServerUnavailable };

const STOP_TIMEOUT_MS = 30_000;
const LOCK_TIMEOUT_MS = 15 * 60_000; // a first fetch of a big server can take minutes

export interface UpResult {
  readonly name: string;
  /** `started`: by this call; `reused`: already up and started by the harness; `external`: up, not ours. */
  readonly outcome: 'started' | 'reused' | 'external';
  readonly ms: number;
  readonly rssBytes: number;
}

export interface ServerStatus {
  readonly name: string;
  readonly version: string;
  readonly state: 'up' | 'down' | 'external' | 'unhealthy';
  readonly detail: string;
  readonly pids: readonly number[];
  readonly rssBytes: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withLock<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const file = join(ctx.dir, 'lock');
  for (const deadline = Date.now() + LOCK_TIMEOUT_MS; ; ) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8'));
      if (!holder || !pidAlive(holder)) rmSync(file, { force: true });
      else if (Date.now() > deadline) throw new Error(`${ctx.name}: ${file} is held by pid ${holder} for too long; remove it if that process is stuck`);
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** Builds the server's context, or throws ServerUnavailable when its runtime prerequisite is missing. */
export function context(name: string): { def: ServerDef; ctx: Ctx } {
  const def = serverDef(name);
  let java = '';
  if (def.needsJava) {
    const found = findJava();
    if ('reason' in found) throw new ServerUnavailable(`${name} needs Java: ${found.reason}`);
    java = found.java;
  }
  const ctx = makeCtx(name, java);
  createDirs(ctx);
  return { def, ctx };
}

/** Live PID records; PID files of processes that are gone are deleted on the way. */
function liveRecords(ctx: Ctx): PidRecord[] {
  return readPidRecords(ctx).filter((rec) => {
    if (isRunning(rec)) return true;
    rmSync(pidFile(ctx, rec.id), { force: true });
    return false;
  });
}

function rss(records: readonly PidRecord[]): number {
  return records.reduce((sum, r) => sum + groupRss(r.pid), 0);
}

async function stopRecords(ctx: Ctx, records: readonly PidRecord[], signal?: NodeJS.Signals): Promise<void> {
  // Newest first: the DataNode goes before the NameNode it reports to.
  for (const rec of [...records].sort((a, b) => b.startedAt.localeCompare(a.startedAt))) {
    const how = await stopProcess(rec, STOP_TIMEOUT_MS, signal);
    rmSync(pidFile(ctx, rec.id), { force: true });
    ctx.log(`${rec.id} (pid ${rec.pid}) ${how}`);
  }
}

function startFailure(ctx: Ctx, def: ServerDef, why: string): Error {
  const logs = def.processes(ctx).map((p) => `--- last 50 lines of ${logFile(ctx, p.id)}\n${tail(logFile(ctx, p.id), 50)}`);
  return new Error(`${ctx.name} failed to start: ${why}\n${logs.join('\n')}`);
}

/** Starts `name` unless it is already up. `keepData` keeps the data directory of a previous run (restarts). */
export async function up(name: string, opts: { keepData?: boolean } = {}): Promise<UpResult> {
  const { def, ctx } = context(name);
  return withLock(ctx, async () => {
    const t0 = Date.now();
    const live = liveRecords(ctx);
    const probe = await def.ready(ctx);
    if (probe === true) return { name, outcome: live.length ? 'reused' : 'external', ms: 0, rssBytes: rss(live) };
    if (live.length) {
      ctx.log(`running but not ready (${probe}); restarting it`);
      await stopRecords(ctx, live);
    }
    for (const port of def.ports) {
      if (await tcpOpen(port)) {
        throw new Error(`${name}: port ${port} on 127.0.0.1 is in use by a process the harness did not start; find it with \`ss -ltnp 'sport = :${port}'\`, stop it and retry`);
      }
    }
    await def.fetch(ctx);
    const fresh = !opts.keepData;
    await def.configure(ctx, fresh);
    const tStart = Date.now();
    const started: PidRecord[] = [];
    let last = 'not probed yet';
    try {
      for (const spec of def.processes(ctx)) started.push(await launch(ctx, spec, fresh));
      for (;;) {
        const dead = started.find((r) => !isRunning(r));
        if (dead) throw startFailure(ctx, def, `${dead.id} (pid ${dead.pid}) exited during startup`);
        const r = await def.ready(ctx);
        if (r === true) break;
        last = r;
        if (Date.now() - tStart > def.readyTimeoutMs) throw startFailure(ctx, def, `not ready after ${def.readyTimeoutMs / 1000} s: ${last}`);
        await sleep(250);
      }
    } catch (e) {
      await stopRecords(ctx, started.filter(isRunning));
      for (const rec of started) rmSync(pidFile(ctx, rec.id), { force: true });
      throw e;
    }
    const result: UpResult = { name, outcome: 'started', ms: Date.now() - t0, rssBytes: rss(started) };
    ctx.log(`up in ${((Date.now() - tStart) / 1000).toFixed(1)} s after launch (${(result.ms / 1000).toFixed(1)} s in all), ` +
      `pid ${started.map((r) => r.pid).join(', ')}, RSS ${(result.rssBytes / 2 ** 20).toFixed(0)} MiB`);
    return result;
  });
}

/** Stops what the harness started for `name` (a server it did not start is left alone and reported). */
export async function down(name: string, opts: { signal?: NodeJS.Signals } = {}): Promise<void> {
  const def = serverDef(name);
  const ctx = makeCtx(name, '');
  if (!existsSync(ctx.dir)) return; // never started from this checkout
  await withLock(ctx, async () => {
    const live = liveRecords(ctx);
    if (live.length) return stopRecords(ctx, live, opts.signal);
    if ((await def.ready(ctx)) === true) ctx.log('is up but was not started by this harness (no PID file); leaving it alone');
  });
}

export async function status(name: string): Promise<ServerStatus> {
  const def = serverDef(name);
  const ctx = makeCtx(name, '');
  const live = readPidRecords(ctx).filter(isRunning);
  const probe = await def.ready(ctx);
  const state = probe === true ? (live.length ? 'up' : 'external') : live.length ? 'unhealthy' : 'down';
  return {
    name,
    version: def.version,
    state,
    detail: probe === true ? `ports ${def.ports.join(', ')}` : probe,
    pids: live.map((r) => r.pid),
    rssBytes: rss(live),
  };
}

/** Names of servers with live processes started by the harness. */
export function runningServers(): string[] {
  return SERVERS.map((d) => d.name).filter((name) => readPidRecords(makeCtx(name, '')).some(isRunning));
}

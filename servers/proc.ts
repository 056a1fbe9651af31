/**
 * Starting, identifying and stopping server processes by the PIDs the harness saved — never by process name,
 * because other developers' servers (or other clones' harnesses) may run on the same machine.
 *
 * Each server process is spawned detached, so it leads its own process group: stopping signals the whole group,
 * which also reaches helper children (Elasticsearch's CLI launcher starts a second JVM). A PID file also records
 * the process start time from /proc, so a recycled PID is never mistaken for our server.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ctx, ProcSpec } from './layout.ts';

export interface PidRecord {
  readonly id: string;
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); 0 when /proc is unavailable. */
  readonly startTicks: number;
  readonly startedAt: string;
  readonly command: string;
}

function procStat(pid: number): { state: string; pgrp: number; startTicks: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, pgrp: Number(f[2]), startTicks: Number(f[19]) };
  } catch {
    return undefined;
  }
}

/**
 * True while the saved process or a member of its process group runs. Group members count too, so that a helper
 * left behind by a dead leader is still stopped; only members started after the leader, never a recycled PID.
 */
export function isRunning(rec: PidRecord): boolean {
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(rec.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const st = procStat(rec.pid);
  if (st && st.state !== 'Z' && st.startTicks === rec.startTicks) return true;
  return groupPids(rec.pid).some((pid) => (procStat(pid)?.startTicks ?? 0) >= rec.startTicks);
}

/** Live (non-zombie) members of the process group `pgid`. */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStat(Number(entry));
    if (st && st.pgrp === pgid && st.state !== 'Z') out.push(Number(entry));
  }
  return out;
}

/** Resident memory of the whole process group, in bytes. */
export function groupRss(pgid: number): number {
  let kb = 0;
  for (const pid of groupPids(pgid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // the process exited while we were scanning
    }
  }
  return kb * 1024;
}

export function pidFile(ctx: Ctx, id: string): string {
  return join(ctx.run, `${id}.pid`);
}

export function readPidRecords(ctx: Ctx): PidRecord[] {
  if (!existsSync(ctx.run)) return [];
  return readdirSync(ctx.run)
    .filter((f) => f.endsWith('.pid'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(ctx.run, f), 'utf8')) as PidRecord];
      } catch {
        rmSync(join(ctx.run, f), { force: true }); // half-written or foreign file: useless for stopping anything
        return [];
      }
    });
}

export function logFile(ctx: Ctx, id: string): string {
  return join(ctx.logs, `${id}.log`);
}

/** Spawns `spec` detached with stdout+stderr appended to `logs/<id>.log`, and saves its PID file. */
export async function launch(ctx: Ctx, spec: ProcSpec, rotateLog: boolean): Promise<PidRecord> {
  const log = logFile(ctx, spec.id);
  if (rotateLog && existsSync(log)) renameSync(log, `${log}.1`);
  const fd = openSync(log, 'a');
  writeFileSync(fd, `\n=== ${new Date().toISOString()} ${spec.cmd} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.cmd, [...spec.args], {
    cwd: spec.cwd ?? ctx.dir,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', fd, fd],
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
  closeSync(fd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${spec.cmd}: ${(await spawnError).message}`);
  const rec: PidRecord = {
    id: spec.id,
    pid,
    startTicks: procStat(pid)?.startTicks ?? 0,
    startedAt: new Date().toISOString(),
    command: `${spec.cmd} ${spec.args.join(' ')}`,
  };
  writeFileSync(pidFile(ctx, spec.id), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * SIGTERM to the process group, wait up to `timeoutMs` for the leader and every group member to exit, then
 * SIGKILL. Returns how the process ended. `signal: 'SIGKILL'` simulates a crash.
 */
export async function stopProcess(rec: PidRecord, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<'not running' | 'stopped' | 'killed'> {
  if (!isRunning(rec)) return 'not running';
  const gone = () => !isRunning(rec);
  signalGroup(rec.pid, signal);
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if (gone()) return signal === 'SIGKILL' ? 'killed' : 'stopped';
  }
  signalGroup(rec.pid, 'SIGKILL');
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) if (gone()) return 'killed';
  throw new Error(`process ${rec.pid} (${rec.id}) survived SIGKILL; check it with: ps -o pid,stat,cmd -g ${rec.pid}`);
}

/** Last `lines` lines of a log file (empty string when it does not exist). */
export function tail(file: string, lines = 50): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

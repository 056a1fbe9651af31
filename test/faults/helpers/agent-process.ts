/**
 * Agents under fault as real child processes (`node bin/fintrans-agent.js --conf X`): started, watched through
 * their /status endpoint on a fixed free port, measured (VmRSS from /proc), and stopped with SIGTERM or SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '..', '..', '..', 'bin', 'fintrans-agent.js');

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string | null>;
  /** The last 200 kB of stdout and stderr (pino JSON lines, then anything else). */
  logs(): string;
  /** Parsed JSON log lines so far whose `msg` matches. */
  logLines(msg: RegExp): Record<string, unknown>[];
}

/** Children still running, so a failed test never leaves an agent behind (see killLeftovers). */
const live = new Set<ChildProcess>();

export function spawnAgent(conf: string, o: { name?: string; env?: NodeJS.ProcessEnv } = {}): AgentProcess {
  const args = [BIN, '--conf', conf, ...(o.name ? ['--name', o.name] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let logs = '';
  const keep = (d: Buffer) => (logs = (logs + d.toString()).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  return {
    child,
    pid: child.pid!,
    exited,
    logs: () => logs,
    logLines: (msg) =>
      logs.split('\n').flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          return typeof o.msg === 'string' && msg.test(o.msg) ? [o] : [];
        } catch {
          return []; // a line cut by the 200 kB window, or still being written
        }
      }),
  };
}

/** SIGKILLs the agents this file started that still run (for afterAll: a test that failed midway). */
export async function killLeftovers(): Promise<void> {
  const exits = [...live].map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL'))));
  await Promise.all(exits);
}

/** SIGKILL, and the exit. */
export async function kill9(p: AgentProcess): Promise<number | string | null> {
  p.child.kill('SIGKILL');
  return p.exited;
}

/** A TCP port that was free a moment ago (for a child's metrics endpoint). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export type Status = Record<string, Record<string, string>>;

/** The child's Flume-style /status, or undefined while its endpoint is not up. */
export async function status(port: number): Promise<Status | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as Status) : undefined;
  } catch {
    return undefined;
  }
}

/** One number of /status, e.g. num(s, 'CHANNEL.wal', 'ChannelSize'); NaN when absent. */
export function num(s: Status | undefined, component: string, key: string): number {
  const v = s?.[component]?.[key];
  return v === undefined ? Number.NaN : Number(v);
}

/** The child's resident set size in bytes (VmRSS), or 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

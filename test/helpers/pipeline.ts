/**
 * Helpers for end-to-end tests: write configs and spool files into a temp dir, start agents in-process, wait on
 * their metrics, and read back what file_roll wrote.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../agent/log.ts';
import { startAgent, type RunningAgent } from '../../agent/run.ts';

export function tempDir(prefix = 'fta-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string, name = 'agent.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** Writes `count` JSON transaction lines starting at id `from`, atomically (written aside, then moved in). */
export function writeSpoolFile(spool: string, name: string, from: number, count: number): void {
  mkdirSync(spool, { recursive: true });
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) lines.push(JSON.stringify({ transactionId: `tx-${i}`, amount: (i % 1000) + 0.25, merchantId: `merchant_${i % 50}` }));
  const tmp = join(spool, '..', `.${name}.part`);
  writeFileSync(tmp, `${lines.join('\n')}\n`);
  renameSync(tmp, join(spool, name));
}

export async function start(conf: string, name?: string): Promise<RunningAgent> {
  return startAgent({ conf, name, log: silentLogger(), metricsPort: 0 });
}

export function stat(agent: RunningAgent, component: string, metric: string): number {
  const s = agent.metrics.components.find((c) => c.name === component);
  if (!s) throw new Error(`no component ${component}`);
  return s.get(metric);
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every line of every finalized (and, if asked, in-use) file in a directory. */
export function readLines(dir: string, includeTemp = false): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (!statSync(p).isFile() || (!includeTemp && n.startsWith('.'))) continue;
    out = out.concat(readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0));
  }
  return out;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Counts of each id, to find losses and duplicates. */
export function tally(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

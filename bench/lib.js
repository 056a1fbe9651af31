// Shared bench helpers: deterministic data sets written once into bench/data, and process resource readings.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import generator from '../dist/plugins/sources/generator.js';

export const DATA = new URL('./data/', import.meta.url).pathname;

/** Writes `total` seed-000 transactions (financial_transactions schema) as JSON lines in files of `perFile`. */
export async function spoolData(name, total, perFile = 100_000) {
  const dir = join(DATA, name);
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  mkdirSync(dir, { recursive: true });
  const source = await generator.create({ schema: 'financial_transactions', rate: 0, count: total, seed: 1, batchSize: 10_000, startTime: 1_700_000_000_000 }, { log: { info() {}, warn() {}, debug() {} } });
  let lines = [];
  let file = 0;
  const flush = () => {
    if (!lines.length) return;
    const tmp = join(DATA, `${name}.part`);
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, join(dir, `tx-${String(file++).padStart(4, '0')}.jsonl`));
    lines = [];
  };
  const controller = new AbortController();
  await source.run({
    signal: controller.signal,
    log: { info() {}, warn() {}, debug() {}, error() {} },
    async emit(events) {
      for (const e of events) {
        lines.push(e.text);
        if (lines.length >= perFile) flush();
      }
    },
    deadLetter() {},
  });
  flush();
  writeFileSync(done, '');
  return dir;
}

export function machine() {
  return `${(process.env.BENCH_MACHINE ?? '2 cores, 24 GiB')}, Node ${process.versions.node}`;
}

/**
 * Copies a spool data set into a fresh directory, runs the agent described by `yaml` (its spooldir reads ./spool)
 * until the sink `sinkName` drained `total` events, and returns the time, CPU and the running agent's metrics
 * (read before the agent stops).
 */
export async function runSpoolPipeline(data, yaml, total, sinkName, inspect = () => ({})) {
  const { cpSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { startAgent } = await import('../dist/agent/run.js');
  const { silentLogger } = await import('../dist/agent/log.js');
  const dir = join(tmpdir(), `fta-bench-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  cpSync(data, join(dir, 'spool'), { recursive: true, filter: (p) => !p.endsWith('.complete') });
  writeFileSync(join(dir, 'agent.yaml'), yaml);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const agent = await startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false });
  const sink = agent.metrics.components.find((c) => c.name === sinkName);
  while (sink.get('events_drained_total') < total) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const extra = inspect(agent);
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
  return { seconds, eventsPerSec: total / seconds, cpuSecPerMillion: (cpu.user + cpu.system) / 1e6 / (total / 1e6), ...extra };
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const fmt = (n) => Math.round(n).toLocaleString('en-US');

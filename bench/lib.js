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

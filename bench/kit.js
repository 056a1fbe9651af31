// What every scenario shares: work directories, the spool data set, and the interleaved run loop.
import { linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spoolData, DATA } from './lib.js';

export const WORK = join(DATA, 'work');
export const PER_FILE = 100_000;
const stale = { checked: false };

/** A fresh, empty directory under bench/data/work (on the real disk: /tmp could be tmpfs, where fsync is free). */
export function workDir(name) {
  const dir = join(WORK, `${name}-${Date.now()}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * The seed-000 data set of `total` events as files of 100,000 JSON lines; smaller scenarios use its first files
 * (the generator is deterministic, so the first n events of any run are the same). Reads the files once so that
 * neither system pays for a cold page cache. Returns the files and the mean bytes per event (newline included).
 */
export async function spoolSet(total) {
  const dir = await spoolData('spool-1000000', 1_000_000, PER_FILE);
  if (!stale.checked) {
    // The cache is only as good as the generator that wrote it: when the generator's first event changed, both
    // systems must get the new data, not a mix of old and new between machines.
    stale.checked = true;
    const probe = await spoolData(`spool-probe-${process.pid}`, 1, 1);
    const first = (f) => readFileSync(f, 'utf8').split('\n', 1)[0];
    const changed = first(join(probe, 'tx-0000.jsonl')) !== first(join(dir, 'tx-0000.jsonl'));
    rmSync(probe, { recursive: true, force: true });
    if (changed) {
      console.log('  the generator changed since bench/data/spool-1000000 was written: writing it again');
      rmSync(dir, { recursive: true, force: true });
      return spoolSet(total);
    }
  }
  if (total % PER_FILE !== 0 || total > 1_000_000) throw new Error(`spool scenarios take a multiple of ${PER_FILE} up to 1,000,000 events, not ${total}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().slice(0, total / PER_FILE).map((f) => join(dir, f));
  let bytes = 0;
  for (const f of files) bytes += readFileSync(f).length;
  return { files, total, bytesPerEvent: bytes / total };
}

/** Hard-links the data files into `spoolDir`: each appears complete at once, nothing is copied, sources only rename. */
export function release(files, spoolDir) {
  for (const f of files) linkSync(f, join(spoolDir, f.slice(f.lastIndexOf('/') + 1)));
}

/** The first `n` lines of the data set (for filling a Kafka topic with the same records). */
export async function dataLines(n) {
  const { files } = await spoolSet(Math.ceil(n / PER_FILE) * PER_FILE);
  const out = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line) out.push(line);
      if (out.length === n) return out;
    }
  }
  return out;
}

/**
 * Runs fintrans-agent and the reference alternately (A B A B A B), so drift in the machine's load hits both.
 * `fintrans(i)` / `reference(i)` each return one run's result; a failed run is recorded with its error.
 */
export async function interleave(runs, fintrans, reference, log) {
  const out = { fintrans: [], reference: [], errors: [] };
  for (let i = 0; i < runs; i++) {
    for (const [who, fn] of [['fintrans', fintrans], ['reference', reference]]) {
      if (!fn) continue;
      const t0 = Date.now();
      try {
        const r = await fn(i);
        out[who].push(r);
        log(`  ${who} run ${i + 1}/${runs}: ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s, ${r.cpuSecPerMillion.toFixed(2)} CPU s/M, ${Math.round(r.peakRssMb)} MB peak (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        out.errors.push(`${who} run ${i + 1}: ${e.message}`);
        log(`  ${who} run ${i + 1}/${runs} FAILED: ${e.message}`);
      }
    }
  }
  return out;
}

export function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

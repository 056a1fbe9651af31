// Reading a process from the outside (/proc) and turning three runs into median/min/max. Both systems are measured
// the same way, by PID: CPU is utime+stime of every thread, peak RSS is the kernel's high-water mark (VmHWM).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const TICKS_PER_SEC = 100; // CLK_TCK on Linux (getconf CLK_TCK)

/** CPU seconds used so far (user + system) and RSS / peak RSS in MB, or undefined once the process is gone. */
export function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(f[11]) + Number(f[12])) / TICKS_PER_SEC;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { at: performance.now(), cpuSec, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before returning). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const POLL_MS = 25;

/**
 * Polls `read()` (→ { ingested, delivered, ... }) every POLL_MS until `delivered >= total`. The clock starts at the
 * last poll that still saw nothing ingested (or at `startedAt` when the bench itself released the input), so a
 * run is never credited with time it did not get; CPU is counted over the same window.
 */
export async function measureUntil({ pid, total, read, startedAt, timeoutMs, onPoll }) {
  let start = startedAt === undefined ? undefined : { at: startedAt, sample: procSample(pid) };
  let previous = { at: performance.now(), sample: procSample(pid) };
  const deadline = Date.now() + timeoutMs;
  let failingSince;
  for (;;) {
    const at = performance.now();
    const sample = procSample(pid);
    let c;
    try {
      c = await read();
      failingSince = undefined;
    } catch (e) {
      // A busy JVM can miss a monitoring request; only a dead process or a long silence ends the run.
      failingSince ??= Date.now();
      if (!sample || Date.now() - failingSince > 15_000) throw new Error(`reading the counters of process ${pid} failed: ${e.message}`);
      await sleep(POLL_MS);
      continue;
    }
    onPoll?.(c, sample);
    if (!start && c.ingested > 0) start = previous;
    if (start && c.delivered >= total) {
      const seconds = (at - start.at) / 1000;
      const cpuSec = sample && start.sample ? sample.cpuSec - start.sample.cpuSec : NaN;
      return { from: start.at, seconds, eventsPerSec: total / seconds, cpuSecPerMillion: cpuSec / (total / 1e6), peakRssMb: sample?.peakRssMb ?? NaN, counters: c };
    }
    if (!sample) throw new Error(`process ${pid} exited before delivering ${total} events (last counters ${JSON.stringify(c)})`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s with ${JSON.stringify(c)} of ${total} events`);
    previous = { at, sample };
    await sleep(POLL_MS);
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median with min and max of every numeric field the runs share; the runs themselves are kept too. */
export function summarize(runs, bytesPerEvent) {
  const out = {};
  runs = runs.map(({ from: _, counters: __, ...r }) => r); // clock readings and raw counters are not results
  const keys = Object.keys(runs[0]).filter((k) => typeof runs[0][k] === 'number');
  for (const k of keys) {
    const xs = runs.map((r) => r[k]).filter((x) => Number.isFinite(x));
    if (!xs.length) continue;
    out[k] = round(median(xs));
    out[`${k}Min`] = round(Math.min(...xs));
    out[`${k}Max`] = round(Math.max(...xs));
  }
  if (out.eventsPerSec !== undefined) out.mbPerSec = round((out.eventsPerSec * bytesPerEvent) / 1e6);
  out.runs = runs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])));
  return out;
}

export function round(x) {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  return a >= 1000 ? Math.round(x) : a >= 10 ? Math.round(x * 10) / 10 : Math.round(x * 1000) / 1000;
}

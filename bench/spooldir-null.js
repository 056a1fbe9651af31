// spooldir (1M JSON lines, ~280 B each) → memory → null, in-process, measured from start to the last event
// drained. Prints events/s, MB/s, CPU seconds per million events and peak RSS. `npm run bench:spooldir`.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startAgent } from '../dist/agent/run.js';
import { silentLogger } from '../dist/agent/log.js';
import { machine, spoolData } from './lib.js';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const data = await spoolData(`spool-${TOTAL}`, TOTAL);
const results = [];
for (let run = 0; run < RUNS; run++) {
  const dir = join(tmpdir(), `fta-bench-${process.pid}-${run}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(data, join(dir, 'spool'), { recursive: true, filter: (p) => !p.endsWith('.complete') });
  writeFileSync(join(dir, 'agent.yaml'), `
metrics: { enabled: false }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 1000, fileStableMs: 0, pollDelay: 100, channels: [mem] }
    channels:
      mem: { type: memory, capacity: 100000, transactionCapacity: 1000 }
    sinks:
      out: { type: null, channel: mem, batchSize: 1000 }
`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const agent = await startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false });
  const sink = agent.metrics.components.find((c) => c.name === 'out');
  while (sink.get('events_drained_total') < TOTAL) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
  const bytes = TOTAL * 281;
  results.push({ eventsPerSec: TOTAL / seconds, mbPerSec: bytes / seconds / 1e6, cpuSecPerMillion: ((cpu.user + cpu.system) / 1e6) * (1e6 / TOTAL) });
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;
const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`spooldir → memory → null, ${fmt(TOTAL)} events, ${RUNS} runs (${machine()})`);
console.log(`  events/s median ${fmt(med('eventsPerSec'))} (min ${fmt(Math.min(...results.map((r) => r.eventsPerSec)))}, max ${fmt(Math.max(...results.map((r) => r.eventsPerSec)))})`);
console.log(`  MB/s median ${med('mbPerSec').toFixed(1)} · CPU s per 1M events ${med('cpuSecPerMillion').toFixed(2)} · peak RSS ${fmt(peakRssMb)} MB`);

// spooldir (1M JSON lines, ~280 B each) → memory → null, in-process, measured from start to the last event
// drained. Prints events/s, MB/s, CPU seconds per million events and peak RSS. `npm run bench:spooldir`.
import { fmt, machine, median, runSpoolPipeline, spoolData } from './lib.js';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const data = await spoolData(`spool-${TOTAL}`, TOTAL);
const yaml = `
metrics: { enabled: false }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 1000, fileStableMs: 0, pollDelay: 100, channels: [mem] }
    channels:
      mem: { type: memory, capacity: 100000, transactionCapacity: 1000 }
    sinks:
      out: { type: null, channel: mem, batchSize: 1000 }
`;
const results = [];
for (let run = 0; run < RUNS; run++) results.push(await runSpoolPipeline(data, yaml, TOTAL, 'out'));
const eps = results.map((r) => r.eventsPerSec);
console.log(`spooldir → memory → null, ${fmt(TOTAL)} events, ${RUNS} runs (${machine()})`);
console.log(`  events/s median ${fmt(median(eps))} (min ${fmt(Math.min(...eps))}, max ${fmt(Math.max(...eps))})`);
console.log(`  MB/s median ${((median(eps) * 281) / 1e6).toFixed(1)} · CPU s per 1M events ${median(results.map((r) => r.cpuSecPerMillion)).toFixed(2)} · peak RSS ${fmt(process.resourceUsage().maxRSS / 1024)} MB`);

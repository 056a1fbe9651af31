// spooldir (1M JSON lines) → file channel → null with fsync: commit and fsync: interval, and the recovery time of
// a file channel holding 1M queued events. `npm run bench:file`.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { silentLogger } from '../dist/agent/log.js';
import file from '../dist/plugins/channels/file.js';
import { Event } from '../dist/agent/event.js';
import { ComponentStats } from '../dist/agent/metrics/stats.js';
import { fmt, machine, runSpoolPipeline, spoolData } from './lib.js';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const data = await spoolData(`spool-${TOTAL}`, TOTAL);

async function throughput(fsync) {
  const yaml = `
metrics: { enabled: false }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 1000, fileStableMs: 0, pollDelay: 100, channels: [wal] }
    channels:
      wal: { type: file, capacity: 1000000, transactionCapacity: 1000, fsync: ${fsync} }
    sinks:
      out: { type: null, channel: wal, batchSize: 1000 }
`;
  const fsyncStats = (agent) => {
    const h = agent.metrics.components.find((c) => c.name === 'wal').histograms.get('fsync_seconds')?.h;
    return { fsyncs: h?.count ?? 0, p99: (h?.quantile(0.99) ?? 0) * 1000 };
  };
  const results = [];
  for (let run = 0; run < RUNS; run++) results.push(await runSpoolPipeline(data, yaml, TOTAL, 'out', fsyncStats));
  const sorted = [...results].sort((a, b) => a.eventsPerSec - b.eventsPerSec);
  const m = sorted[Math.floor(sorted.length / 2)];
  console.log(`spooldir → file (fsync: ${fsync}) → null, ${fmt(TOTAL)} events, ${RUNS} runs: median ${fmt(m.eventsPerSec)} events/s (min ${fmt(sorted[0].eventsPerSec)}, max ${fmt(sorted.at(-1).eventsPerSec)}), ${((m.eventsPerSec * 281) / 1e6).toFixed(1)} MB/s, CPU ${m.cpuSecPerMillion.toFixed(2)} s per 1M, ${fmt(m.fsyncs)} fsyncs (p99 ≤ ${m.p99} ms)`);
}

async function recovery() {
  const dir = join(tmpdir(), `fta-bench-recovery-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const config = { checkpointDir: join(dir, 'cp'), dataDirs: [join(dir, 'data')], capacity: 2_000_000, transactionCapacity: 1000, maxFileSize: 64 << 20, minimumRequiredSpace: 0, fsync: 'interval', fsyncIntervalMs: 1000, keepAlive: 3, maxCachedEvents: 0 };
  const ctx = () => ({ agent: 'bench', name: 'wal', kind: 'channel', type: 'file', log: silentLogger(), configDir: dir, signal: new AbortController().signal, metrics: new ComponentStats('bench', 'wal', 'channel', 'file') });
  const line = JSON.stringify({ transactionId: '5f0c6f1e-2b7a-4c1e-9a57-1d2f3e4a5b6c', userId: 'user_12345', amount: 1234.56, transactionTime: 1700000000, merchantId: 'merchant_123', transactionType: 'purchase', location: 'location_42', paymentMethod: 'credit_card', isInternational: false, currency: 'USD', pad: 'x'.repeat(40) });
  const first = await file.create(config, ctx());
  await first.start();
  for (let b = 0; b < TOTAL / 1000; b++) {
    const tx = first.beginPut();
    tx.put(Array.from({ length: 1000 }, () => Event.fromText(line)));
    await tx.commit();
  }
  await first.stop();
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const ch = await file.create(config, ctx());
    const t0 = performance.now();
    await ch.start();
    times.push((performance.now() - t0) / 1000);
    if (ch.size() !== TOTAL) throw new Error(`recovered ${ch.size()} events, expected ${TOTAL}`);
    await ch.stop();
  }
  rmSync(dir, { recursive: true, force: true });
  times.sort((a, b) => a - b);
  console.log(`file channel recovery with ${fmt(TOTAL)} queued events (${line.length + 1} B each): median ${times[Math.floor(times.length / 2)].toFixed(2)} s (min ${times[0].toFixed(2)}, max ${times.at(-1).toFixed(2)})`);
}

console.log(`(${machine()})`);
const which = process.argv.slice(2);
if (!which.length || which.includes('commit')) await throughput('commit');
if (!which.length || which.includes('interval')) await throughput('interval');
if (!which.length || which.includes('recovery')) await recovery();

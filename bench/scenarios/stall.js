// S7: S1 with the sink stopped for 60 s. The sink (bench/plugins/gated-null.js) fails every write while a gate
// file exists, as a destination that is down; the memory channel fills to its capacity and the spooldir source
// must then wait instead of reading on. RSS is sampled every 250 ms through the stop: it has to stay flat.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentAges, agentCounters, startAgentProcess } from '../agent-proc.js';
import { release, spoolSet, workDir } from '../kit.js';
import { measureUntil, procSample, round, summarize } from '../measure.js';
import { agentSpoolYaml } from './spool.js';

const CAPACITY = 100_000;
const PLUGIN = new URL('../plugins/gated-null.js', import.meta.url).pathname;

async function stallRun(set, stopMs, profileDir) {
  const dir = workDir('S7-fintrans');
  mkdirSync(join(dir, 'spool'));
  const gate = join(dir, 'sink-stopped');
  writeFileSync(gate, '');
  const yaml = agentSpoolYaml(dir, `{ type: memory, capacity: ${CAPACITY}, transactionCapacity: 1000 }`, `{ type: ${PLUGIN}, channel: ch, gateFile: ${gate}, batchSize: 1000 }`);
  const sys = await startAgentProcess(dir, yaml, { profileDir });
  let ok = false;
  try {
    const t0 = performance.now();
    const cpu0 = procSample(sys.pid).cpuSec;
    release(set.files, join(dir, 'spool'));
    const samples = [];
    while (performance.now() - t0 < stopMs) {
      const s = procSample(sys.pid);
      const st = await sys.status();
      samples.push({ t: performance.now() - t0, rssMb: s.rssMb, size: Number(st['CHANNEL.ch'].ChannelSize), read: Number(st['SOURCE.src'].EventReceivedCount) });
      await sleep(250);
    }
    const full = samples.findIndex((x) => x.size >= CAPACITY - 1000);
    if (full < 0) throw new Error(`the channel never filled during the ${stopMs / 1000} s stop (max size ${Math.max(...samples.map((x) => x.size))})`);
    const during = samples.slice(full);
    const half = Math.floor(during.length / 2);
    const max = (xs) => Math.max(...xs.map((x) => x.rssMb));
    rmSync(gate);
    const resumed = performance.now();
    // The clock of the drain starts at the first delivery after the resume; the wait before it is resumeLagMs.
    const r = await measureUntil({ pid: sys.pid, total: set.total, timeoutMs: 600_000, read: async () => {
      const c = agentCounters(await sys.status(), ['out']);
      return { ingested: c.delivered, delivered: c.delivered };
    } });
    const end = procSample(sys.pid);
    ok = true;
    return {
      eventsPerSec: r.eventsPerSec, // after the resume: the backlog plus the rest of the files
      resumeLagMs: round(r.from - resumed),
      cpuSecPerMillion: (end.cpuSec - cpu0) / (set.total / 1e6),
      peakRssMb: end.peakRssMb,
      ...agentAges(await sys.status(), 'out'),
      channelFullAfterMs: round(during[0].t),
      readDuringStop: samples.at(-1).read,
      rssFirstHalfMaxMb: round(max(during.slice(0, half))),
      rssSecondHalfMaxMb: round(max(during.slice(half))),
      rssGrowthMb: round(max(during.slice(half)) - max(during.slice(0, half))),
      rssMinDuringStopMb: round(Math.min(...during.map((x) => x.rssMb))),
    };
  } catch (e) {
    throw new Error(`${e.message} (work directory kept: ${dir})`);
  } finally {
    await sys.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}

export const S7 = {
  id: 'S7', name: 'S1 with the sink stopped for 60 s', servers: [], goal: 'RSS stays flat (bounded by capacity)',
  // Flat: RSS in the second half of the stop peaks no more than 10% above the first half (GC saw-teeth aside).
  judge: (r) => r.fintrans.rssGrowthMb <= 0.1 * r.fintrans.rssFirstHalfMaxMb,
  async run({ log, profileDir, scale }) {
    const set = await spoolSet(1_000_000);
    const stopMs = Math.max(10_000, 60_000 * Math.min(1, scale));
    const r = await stallRun(set, stopMs, profileDir);
    log(`  fintrans: channel full after ${(r.channelFullAfterMs / 1000).toFixed(1)} s, RSS ${Math.round(r.rssFirstHalfMaxMb)} → ${Math.round(r.rssSecondHalfMaxMb)} MB during the stop, then ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s`);
    return {
      events: set.total,
      fintrans: summarize([r], set.bytesPerEvent),
      reference: null,
      notes: [
        `One run (its figure is the RSS over a ${stopMs / 1000} s stop, sampled every 250 ms, not a rate). Memory channel capacity ${CAPACITY.toLocaleString('en-US')}. ` +
        'events/s is the drain after the sink came back (the backlog plus the rest of the files), from its first delivery; resumeLagMs is the wait before it (the sink runner retries with a backoff of up to 10 s). ' +
        'rssGrowthMb = the highest RSS in the second half of the stop minus the highest in the first half, counted from the moment the channel was full. ' +
        `The source read ${r.readDuringStop.toLocaleString('en-US')} events during the stop.`,
      ],
    };
  },
};

// S1 and S2: spooldir → memory or file channel → null, fintrans-agent against Flume 1.11 with the same batch sizes
// and capacities. Both start with an empty spool directory; the clock starts when the bench hard-links the data
// files in, and stops when the system's own counters show every event taken by the sink.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { agentAges, agentCounters, startAgentProcess } from '../agent-proc.js';
import { flumeCounters, startFlume } from '../flume-proc.js';
import { interleave, release, spoolSet, workDir } from '../kit.js';
import { measureUntil, summarize } from '../measure.js';

const BATCH = 1000;

const CHANNELS = {
  memory: {
    yaml: () => `{ type: memory, capacity: 100000, transactionCapacity: ${BATCH} }`,
    flume: () => ({ 'channels.ch.type': 'memory', 'channels.ch.capacity': 100000, 'channels.ch.transactionCapacity': BATCH }),
  },
  // Flume's file channel syncs every commit (fsyncPerTransaction defaults to true); fsync: commit is the same.
  file: {
    yaml: (dir) => `{ type: file, checkpointDir: ${join(dir, 'cp')}, dataDirs: [${join(dir, 'data')}], capacity: 1000000, transactionCapacity: ${BATCH}, fsync: commit }`,
    flume: (dir) => ({
      'channels.ch.type': 'file', 'channels.ch.checkpointDir': join(dir, 'cp'), 'channels.ch.dataDirs': join(dir, 'data'),
      'channels.ch.capacity': 1000000, 'channels.ch.transactionCapacity': BATCH,
    }),
  },
};

export function agentSpoolYaml(dir, channel, sink = '{ type: null, channel: ch, batchSize: 1000 }') {
  return `agents:
  agent:
    sources:
      src: { type: spooldir, spoolDir: ${join(dir, 'spool')}, batchSize: ${BATCH}, fileStableMs: 0, pollDelay: 100, channels: [ch] }
    channels:
      ch: ${channel}
    sinks:
      out: ${sink}
`;
}

function flumeSpoolProps(dir, channel) {
  return {
    sources: 'src', channels: 'ch', sinks: 'out',
    'sources.src.type': 'spooldir', 'sources.src.spoolDir': join(dir, 'spool'), 'sources.src.batchSize': BATCH,
    'sources.src.pollDelay': 100, 'sources.src.channels': 'ch',
    ...channel,
    'sinks.out.type': 'null', 'sinks.out.batchSize': BATCH, 'sinks.out.channel': 'ch',
  };
}

/** One timed run of a system over a spool directory. `start(dir)` → { pid, status(), stop() }. */
export async function spoolRun(name, set, start, counters, { timeoutMs = 600_000, extra } = {}) {
  const dir = workDir(name);
  mkdirSync(join(dir, 'spool'));
  const sys = await start(dir);
  let ok = false;
  try {
    const t0 = performance.now();
    release(set.files, join(dir, 'spool'));
    const r = await measureUntil({ pid: sys.pid, total: set.total, startedAt: t0, timeoutMs, read: async () => counters(await sys.status()) });
    const more = extra ? extra(await sys.status()) : {};
    const { counters: _, ...rest } = r;
    ok = true;
    return { ...rest, ...more };
  } catch (e) {
    throw new Error(`${e.message} (work directory kept: ${dir}; log ${sys.log})`);
  } finally {
    await sys.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}

function spoolScenario(id, name, channel, { events = 1_000_000, goal, minEventsPerSec }) {
  return {
    id, name, goal, servers: ['flume'],
    judge: (r) => r.fintrans.eventsPerSec >= minEventsPerSec && r.ratio >= 5,
    reference: `Flume 1.11 spooldir → ${channel} → null`,
    async run({ runs, log, profileDir, scale, withReference }) {
      const set = await spoolSet(Math.max(100_000, Math.round((events * scale) / 100_000) * 100_000));
      const ch = CHANNELS[channel];
      const res = await interleave(
        runs,
        () => spoolRun(`${id}-fintrans`, set, (dir) => startAgentProcess(dir, agentSpoolYaml(dir, ch.yaml(dir)), { profileDir }),
          (s) => agentCounters(s, ['out']), { extra: (s) => agentAges(s, 'out') }),
        withReference && (() => spoolRun(`${id}-flume`, set, (dir) => startFlume(dir, flumeSpoolProps(dir, ch.flume(dir)), ['SOURCE.src', 'CHANNEL.ch']), (m) => flumeCounters(m))),
        log,
      );
      return {
        events: set.total,
        fintrans: res.fintrans.length ? summarize(res.fintrans, set.bytesPerEvent) : null,
        reference: res.reference.length ? { name: this.reference, ...summarize(res.reference, set.bytesPerEvent) } : null,
        errors: res.errors,
      };
    },
  };
}

export const S1 = spoolScenario('S1', 'spooldir (1M JSON lines) → memory → null', 'memory', { goal: '≥ 500k events/s and ≥ 5× Flume', minEventsPerSec: 500_000 });
export const S2 = spoolScenario('S2', 'spooldir → file channel (fsync per commit) → null', 'file', { goal: '≥ 200k events/s and ≥ 5× Flume', minEventsPerSec: 200_000 });

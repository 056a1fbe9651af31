// `npm run bench` runs every scenario; `npm run bench -- S1 S3` some of them (S6 = S6a + S6b).
// Options: --runs N (default 3), --scale F (multiplies event counts, for trying the harness out), --profile (one
// fintrans run per scenario under --cpu-prof, no reference, no results written; prints the hot spots).
// Servers a scenario needs are started through the server harness when they are not up, and only those are stopped
// at the end. Set BENCH_CONDITIONS to describe the machine's state (e.g. "shared, under load") in the results.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// The harness keeps PID files per state directory, and a test run's teardown stops every Flume agent (and every
// server it did not find running) listed in the shared one: the bench's own state directory keeps vitest runs on
// the same checkout from killing its Flume agents mid-run. Servers already up elsewhere are probed and reused.
process.env.SERVERS_DIR ??= new URL('./data/servers', import.meta.url).pathname;
// kafkajs (the bench's admin client) trips Node 24's TimeoutNegativeWarning, a known harmless bug (README).
process.removeAllListeners('warning');
process.on('warning', (w) => w.name === 'TimeoutNegativeWarning' || console.warn(w));
const { down, up } = await import('../servers/harness.ts');
const { summarizeProfile } = await import('./profile.js');
const { RESULTS, writeResults } = await import('./report.js');
const { S1, S2 } = await import('./scenarios/spool.js');
const { S3 } = await import('./scenarios/kafka.js');
const { S4 } = await import('./scenarios/hdfs.js');
const { S5 } = await import('./scenarios/processing.js');
const { S6a, S6b } = await import('./scenarios/sinks.js');
const { S7 } = await import('./scenarios/stall.js');

const SCENARIOS = [S1, S2, S3, S4, S5, S6a, S6b, S7];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: process.env.BENCH_RUNS ?? '3' }, scale: { type: 'string', default: '1' }, profile: { type: 'boolean' } },
});
const wanted = positionals.map((p) => p.toUpperCase());
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.id.toUpperCase().startsWith(w)));
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? SCENARIOS.filter((s) => wanted.some((w) => s.id.toUpperCase().startsWith(w))) : SCENARIOS;
const log = (m) => console.log(m);

function machine() {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr?.split('\n')[0] ?? 'no java';
  return `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.versions.node}, ${java.trim()}`;
}

const started = [];
async function ensure(names) {
  for (const name of names) {
    if (name === 'flume' || started.includes(name)) continue;
    const r = await up(name);
    if (r.outcome === 'started') started.push(name);
    log(`[bench] ${name}: ${r.outcome === 'started' ? `started by this run (${(r.ms / 1000).toFixed(1)} s)` : 'already up'}`);
  }
}

const profileRoot = values.profile ? join(RESULTS, 'profiles') : undefined;
const results = [];
const load0 = loadavg();
try {
  for (const sc of selected) {
    log(`\n[bench] ${sc.id}: ${sc.name}`);
    const t0 = Date.now();
    const date = new Date().toISOString();
    const loadAtStart = loadavg()[0];
    let result;
    try {
      await ensure(sc.servers ?? []);
      const profileDir = profileRoot && join(profileRoot, sc.id);
      if (profileDir) rmSync(profileDir, { recursive: true, force: true }), mkdirSync(profileDir, { recursive: true });
      const out = await sc.run({ runs: values.profile ? 1 : Number(values.runs), scale: Number(values.scale), log, profileDir, withReference: !values.profile });
      result = { id: sc.id, name: sc.name, goal: sc.goal, date, loadAverage: [loadAtStart, loadavg()[0]].map((x) => Math.round(x * 100) / 100), events: null, fintrans: null, reference: null, ratio: null, ...out };
      if (out.fintrans && out.reference?.eventsPerSec) result.ratio = Math.round((out.fintrans.eventsPerSec / out.reference.eventsPerSec) * 100) / 100;
      if (!out.skipped && sc.judge && out.fintrans) result.met = sc.judge(result) ? 'yes' : 'no';
      if (profileDir) for (const f of readdirSync(profileDir)) log(summarizeProfile(join(profileDir, f)));
    } catch (e) {
      result = { id: sc.id, name: sc.name, goal: sc.goal, date, events: null, fintrans: null, reference: null, ratio: null, skipped: `failed: ${e.message}` };
    }
    if (result.skipped) log(`[bench] ${sc.id} skipped: ${result.skipped}`);
    else log(`[bench] ${sc.id}: fintrans ${Math.round(result.fintrans?.eventsPerSec ?? NaN)} events/s${result.reference ? `, reference ${Math.round(result.reference.eventsPerSec)}, ratio ${result.ratio}` : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    results.push(result);
  }
} finally {
  for (const name of started.reverse()) await down(name).catch((e) => log(`[bench] stopping ${name}: ${e.message}`));
  // Work directories of failed runs stay for inspection (their path is in the error); the others are gone already.
}

if (!values.profile) {
  const conditions = `Load average (1/5/15 min) ${load0.map((x) => x.toFixed(2)).join(' / ')} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' / ')} at the end.${process.env.BENCH_CONDITIONS ? ` ${process.env.BENCH_CONDITIONS}` : ''}`;
  writeResults({ date: new Date().toISOString(), machine: machine(), conditions }, results);
  log(`\n[bench] wrote ${join(RESULTS, 'latest.json')} and latest.md`);
}

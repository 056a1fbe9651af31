#!/usr/bin/env node
// Runs seed 003's topology on this machine: starts Kafka, HDFS and InfluxDB through the project's server harness,
// drops Generator.py-shaped transactions into the spool folder, and runs the three agents of agents.yaml as three
// processes (each with its own metrics port) until Ctrl-C, which stops them gracefully.
//   node examples/flume-setup/start.js            (FLUME_SETUP_EVENTS=N to change the 10,000 demo transactions)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const events = Number(process.env.FLUME_SETUP_EVENTS ?? 10_000);
const spoolDir = resolve(here, process.env.SPOOL_DIR ?? 'spool');
const agents = [['ingest', 9470], ['to_hdfs', 9471], ['to_influx', 9472]];

if (!process.env.FLUME_SETUP_NO_SERVERS) {
  const up = spawnSync(process.execPath, [join(root, 'servers', 'cli.ts'), 'up', 'kafka', 'hdfs', 'influxdb'], { stdio: 'inherit' });
  if (up.status !== 0) process.exit(up.status ?? 1);
}

// The generator's `finance` shape is seed 003's Generator.py record. Six runs, ten minutes apart, spread the
// transactions over the last hour, so HDFS gets several ten-minute folders.
const { default: generator } = await import(join(root, 'dist', 'plugins', 'sources', 'generator.js'));
const noMetrics = { counter: () => ({ inc() {} }), gauge: () => ({ set() {}, inc() {} }), histogram: () => ({ observe() {} }) };
const quiet = { info() {}, warn() {}, debug() {}, error() {} };
const lines = [];
for (let run = 0; run < 6; run++) {
  const count = Math.floor(events / 6) + (run < events % 6 ? 1 : 0);
  if (count === 0) continue;
  const startTime = Date.now() - 3_600_000 + run * 600_000;
  const source = await generator.create({ schema: 'finance', rate: 0, count, seed: (Date.now() % 100_000) + run, batchSize: 1000, startTime }, { metrics: noMetrics, log: quiet });
  await source.run({ signal: new AbortController().signal, log: quiet, metrics: noMetrics, emit: async (batch) => void lines.push(...batch.map((e) => e.text)), deadLetter() {} });
}
mkdirSync(spoolDir, { recursive: true });
const name = `transactions-${Date.now()}.json`;
writeFileSync(join(spoolDir, '..', `.${name}`), `${lines.join('\n')}\n`);
renameSync(join(spoolDir, '..', `.${name}`), join(spoolDir, name)); // appears complete, as spooldir requires
console.log(`Wrote ${lines.length} transactions to ${join(spoolDir, name)}`);

const children = agents.map(([agent, port]) => {
  const child = spawn(process.execPath, [join(root, 'bin', 'fintrans-agent.js'), '--conf', join(here, 'agents.yaml'), '--name', agent], {
    cwd: here,
    env: { ...process.env, FTA_METRICS_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  console.log(`Started agent ${agent} (pid ${child.pid}, metrics http://127.0.0.1:${port}/metrics)`);
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  exited.then((code) => console.log(`Agent ${agent} exited with ${code}`));
  return { child, exited };
});
const stop = () => children.forEach(({ child }) => child.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const codes = await Promise.all(children.map((c) => c.exited));
process.exit(codes.every((c) => c === 0) ? 0 : 1);

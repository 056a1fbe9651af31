// fintrans-agent as a child process (`node bin/fintrans-agent.js --conf X`), so its CPU and RSS are its own and
// not the bench's. Its /status (Flume-style JSON) on a private metrics port tells when every event reached the sink.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './measure.js';

const ROOT = new URL('..', import.meta.url).pathname;

async function getJson(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/**
 * Writes `yaml` (an agents: block for agent `agent`, without the metrics/logLevel lines) into `dir`, starts the
 * agent and resolves once /health says every component runs (or, with `healthy: false`, once /status answers).
 * `profileDir` adds --cpu-prof.
 */
export async function startAgentProcess(dir, yaml, { profileDir, readyTimeoutMs = 60_000, healthy = true } = {}) {
  const port = await freePort();
  const conf = join(dir, 'agent.yaml');
  writeFileSync(conf, `metrics: { host: 127.0.0.1, port: ${port} }\nlogLevel: warn\n${yaml}`);
  const log = join(dir, 'agent.log');
  const fd = openSync(log, 'a');
  const args = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(ROOT, 'bin/fintrans-agent.js'), '--conf', conf];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const tail = () => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-20).join('\n') : '');
  const stop = async () => {
    if (exited) return exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const r = await exit;
    clearTimeout(t);
    return r;
  };
  let startingAt = performance.now();
  for (const deadline = Date.now() + readyTimeoutMs; ; await sleep(healthy ? 50 : 10)) {
    if (exited) throw new Error(`fintrans-agent exited during start (${JSON.stringify(exited)}):\n${tail()}`);
    // healthy: false for pipelines that start on their own (generator, Kafka source): the metrics endpoint is up
    // before any component starts, so polling from here on sees the very first event.
    const health = await getJson(port, healthy ? '/health' : '/status').catch(() => undefined);
    if (health?.status === 200) break;
    startingAt = performance.now();
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`fintrans-agent not healthy after ${readyTimeoutMs / 1000} s (${JSON.stringify(health?.body)}):\n${tail()}`);
    }
  }
  return {
    pid: child.pid,
    log,
    /** The last moment the endpoint was not up yet: no component had started (a conservative start of the clock). */
    startingAt,
    /** Flume-shaped counters: { 'SOURCE.x': { EventReceivedCount, ... }, 'SINK.y': { EventDrainSuccessCount, EventAgeP99Ms, ... } } */
    status: async () => (await getJson(port, '/status')).body,
    stop,
    tail,
  };
}

/** Counters of one agent /status answer: events the sources received and the named sinks drained. */
export function agentCounters(status, sinks) {
  let ingested = 0;
  for (const [k, v] of Object.entries(status)) if (k.startsWith('SOURCE.')) ingested += Number(v.EventReceivedCount);
  const delivered = sinks.reduce((n, s) => n + Number(status[`SINK.${s}`]?.EventDrainSuccessCount ?? 0), 0);
  return { ingested, delivered };
}

/** p50/p99 end-to-end event age at sink `sink` (the histogram's bucket bounds, in ms). */
export function agentAges(status, sink) {
  const s = status[`SINK.${sink}`] ?? {};
  return { p50AgeMs: Number(s.EventAgeP50Ms), p99AgeMs: Number(s.EventAgeP99Ms) };
}

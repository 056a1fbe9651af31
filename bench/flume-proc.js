// Apache Flume 1.11 through the server harness (servers/flume.ts: Maven Central jars, 512 MB heap, JSON monitoring
// on a private port). Its own counters decide when it has delivered everything.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFlumeAgent } from '../servers/flume.ts';
import { freePort } from './measure.js';

/** Java properties text from a flat object, prefixed with the agent name. */
export function flumeProperties(props) {
  return `${Object.entries(props).map(([k, v]) => `agent.${k} = ${v}`).join('\n')}\n`;
}

/**
 * Starts Flume with `props` (see flumeProperties) in `dir` and waits until its monitoring lists every component in
 * `components` (e.g. ['SOURCE.src', 'CHANNEL.ch', 'SINK.out']) — the channel alone shows up before the source runs.
 */
export async function startFlume(dir, props, components, { id = 'bench', readyTimeoutMs = 60_000 } = {}) {
  const conf = join(dir, 'flume.properties');
  writeFileSync(conf, flumeProperties(props));
  const agent = await startFlumeAgent({ conf, agentName: 'agent', monitorPort: await freePort(), id });
  try {
    for (const deadline = Date.now() + readyTimeoutMs; ; await sleep(100)) {
      const m = await agent.metrics();
      const missing = components.filter((c) => !m[c]);
      if (!missing.length) break;
      if (Date.now() > deadline) throw new Error(`Flume started without ${missing.join(', ')}; see ${agent.log}`);
    }
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return { pid: agent.pid, log: agent.log, status: () => agent.metrics(), stop: () => agent.stop() };
}

/**
 * Flume's evidence of delivery. Its null sink keeps no monitored counters, so there the channel's
 * EventTakeSuccessCount (events the sink took and committed) is the delivered count; other sinks report
 * EventDrainSuccessCount.
 */
export function flumeCounters(m, { source = 'src', channel = 'ch', sink = 'out' } = {}) {
  const ingested = Number(m[`SOURCE.${source}`]?.EventReceivedCount ?? 0);
  const s = m[`SINK.${sink}`];
  const delivered = s ? Number(s.EventDrainSuccessCount) : Number(m[`CHANNEL.${channel}`]?.EventTakeSuccessCount ?? 0);
  return { ingested, delivered };
}

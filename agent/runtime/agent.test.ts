/**
 * Graceful stop through real agents: sources stop first, sinks drain their channels, then sinks stop, then
 * channels close; every event a source had acknowledged is delivered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { componentStats, waitFor } from '../testing/agents.ts';
import type { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { PluginRegistry } from '../registry.ts';
import { startAgent, type RunningAgent } from '../run.ts';
import type { PluginDefinition } from '../types.ts';

const running: RunningAgent[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


const stats = (a: RunningAgent, name: string) => componentStats(a, name);
const idOf = (e: Event) => (e.data as { transactionId: string }).transactionId;

/** A recording sink whose writes wait for `gate`, and which notes the agent's state when it is stopped. */
function recorder(onStop: () => void) {
  const state = { received: [] as Event[], gate: Promise.resolve(), open: () => {} };
  state.gate = new Promise<void>((r) => (state.open = r));
  const def: PluginDefinition<'sink'> = {
    kind: 'sink',
    type: 'recorder',
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 100, description: 'Events per take.' } } },
    create: () => ({
      write: async (events) => {
        await state.gate;
        await new Promise((r) => setTimeout(r, 2)); // a real timer turn per batch, so draining is not one microtask burst
        state.received.push(...events);
      },
      stop: async () => onStop(),
    }),
  };
  return { state, def };
}

async function start(yaml: string, def: PluginDefinition): Promise<RunningAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'fta-agent-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'agent.yaml'), yaml);
  const registry = new PluginRegistry();
  registry.register(def);
  const agent = await startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false, registry });
  running.push(agent);
  return agent;
}

const conf = (count: number) => `agents:
  a:
    sources:
      gen: { type: generator, count: ${count}, batchSize: 50, seed: 7, channels: [mem] }
    channels:
      mem: { type: memory, capacity: 1000, transactionCapacity: 100 }
    sinks:
      out: { type: recorder, channel: mem, batchSize: 100 }
`;

describe('graceful stop', () => {
  it('delivers every generated event: the sink drains the channel after the source stopped and before the sink stops', async () => {
    let agent!: RunningAgent;
    let atSinkStop: Record<string, unknown> | undefined;
    const out = recorder(() => {
      atSinkStop = { source: stats(agent, 'gen').state, channel: stats(agent, 'mem').state, size: stats(agent, 'mem').get('size'), delivered: out.state.received.length };
    });
    agent = await start(conf(600), out.def);
    await waitFor('the generator to finish', () => stats(agent, 'gen').state === 'completed');
    expect(stats(agent, 'gen').get('events_accepted_total')).toBe(600);
    expect(out.state.received).toHaveLength(0); // everything is still in the channel (or in the first take)
    const stopping = agent.stop();
    out.state.open();
    await stopping;
    expect(out.state.received).toHaveLength(600);
    expect(new Set(out.state.received.map(idOf)).size).toBe(600);
    expect(atSinkStop).toEqual({ source: 'stopped', channel: 'running', size: 0, delivered: 600 });
    expect(stats(agent, 'mem').state).toBe('stopped');
    expect(stats(agent, 'out').state).toBe('stopped');
    expect(stats(agent, 'out').get('events_drained_total')).toBe(600);
  });

  it('delivers exactly what an endless source had acknowledged when stopped mid-stream', async () => {
    const out = recorder(() => undefined);
    out.state.open();
    const agent = await start(conf(0), out.def);
    await waitFor('some traffic', () => out.state.received.length >= 2000);
    await agent.stop();
    const accepted = stats(agent, 'gen').get('events_accepted_total');
    expect(accepted).toBeGreaterThanOrEqual(2000);
    expect(out.state.received).toHaveLength(accepted);
    expect(new Set(out.state.received.map(idOf)).size).toBe(accepted);
    expect(stats(agent, 'mem').get('size')).toBe(0);
    expect(stats(agent, 'gen').state).toBe('stopped');
  });

  it('is idempotent: a second stop resolves and changes nothing', async () => {
    const out = recorder(() => undefined);
    out.state.open();
    const agent = await start(conf(100), out.def);
    await waitFor('delivery', () => out.state.received.length === 100);
    await Promise.all([agent.stop(), agent.stop()]);
    await agent.agent.stop();
    expect(out.state.received).toHaveLength(100);
    expect(agent.agent.healthy()).toBe(false);
  });
});

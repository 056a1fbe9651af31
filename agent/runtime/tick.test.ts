/**
 * Processor ticks: a time-driven processor gets the clock while no events arrive, what it emits from a tick
 * reaches the channel, and a slow tick is never overlapped by the next one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { TestAgents, componentStats, waitFor } from '../testing/agents.ts';
import type { Event as EventType } from '../event.ts';
import type { PluginDefinition } from '../types.ts';

const agents = new TestAgents();
afterEach(() => agents.stopAll());

function ticking(state: { ticks: number; overlapped: boolean; running: boolean }): PluginDefinition<'processor'> {
  return {
    kind: 'processor',
    type: 'ticking',
    description: 'test processor',
    schema: { type: 'object', properties: { emitTo: { type: 'array', items: { type: 'string' }, description: 'Channels.' } } },
    create: (config) => ({
      process: (events) => events,
      async tick(now, ctx) {
        if (state.running) state.overlapped = true;
        state.running = true;
        state.ticks++;
        ctx.emitTo(config.emitTo, [new Event({}, JSON.stringify({ tick: state.ticks, now }))]);
        await new Promise((r) => setTimeout(r, 30)); // longer than the tick interval
        state.running = false;
      },
    }),
  };
}

function collector(received: EventType[]): PluginDefinition<'sink'> {
  return {
    kind: 'sink',
    type: 'collector',
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 10, description: 'Events per take.' } } },
    create: () => ({ write: async (events) => void received.push(...events) }),
  };
}

describe('processor ticks', () => {
  it('emit into channels while the source is idle, without overlapping ticks', async () => {
    const state = { ticks: 0, overlapped: false, running: false };
    const received: EventType[] = [];
    const agent = await agents.start(
      `agents:
  a:
    tickInterval: 10ms
    sources:
      gen: { type: generator, count: 1, channels: [main], processors: [clock] }
    processors:
      clock: { type: ticking, emitTo: [ticks] }
    channels:
      main: { type: memory }
      ticks: { type: memory }
    sinks:
      drop: { type: null, channel: main }
      out: { type: collector, channel: ticks }
`,
      [ticking(state), collector(received)],
    );
    await waitFor('three ticks delivered', () => received.length >= 3);
    expect(received.slice(0, 3).map((e) => (e.data as { tick: number }).tick)).toEqual([1, 2, 3]);
    expect(state.overlapped).toBe(false);
    expect(componentStats(agent, 'clock').get('events_emitted_total')).toBeGreaterThanOrEqual(3);
  });
});

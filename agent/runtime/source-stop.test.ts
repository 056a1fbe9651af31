/**
 * A graceful stop never leaves a batch counted by the processors but not taken by the channels: a batch already
 * processed finishes its put while the sinks drain, so a stateful processor (an aggregate) and the channels agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgents, componentStats, waitFor } from '../testing/agents.ts';
import type { PluginDefinition } from '../types.ts';

const agents = new TestAgents();
afterEach(() => agents.stopAll());

const slowSink: PluginDefinition<'sink'> = {
  kind: 'sink',
  type: 'slow',
  description: 'test sink',
  schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 100, description: 'Events per take.' } } },
  create: () => ({ write: () => new Promise((r) => setTimeout(r, 20)) }),
};

describe('stopping a source blocked on a full channel', () => {
  it('lets the processed batch finish its put, so processors and channels saw the same events', async () => {
    const agent = await agents.start(
      `agents:
  a:
    sources:
      gen: { type: generator, batchSize: 500, channels: [c], processors: [stamp] }
    processors:
      stamp: { type: timestamp }
    channels:
      c: { type: memory, capacity: 1000, transactionCapacity: 500, keepAlive: 10ms }
    sinks:
      out: { type: slow, channel: c, batchSize: 50 }
`,
      [slowSink],
    );
    // The channel is full and the generator waits on its put: the next batch was processed but not yet taken.
    const accepted = () => componentStats(agent, 'gen').get('events_accepted_total');
    await waitFor('a batch waiting on the full channel', () => accepted() >= 2000 && componentStats(agent, 'stamp').get('events_in_total') > accepted());
    await agent.stop();
    const processed = componentStats(agent, 'stamp').get('events_in_total');
    expect(componentStats(agent, 'gen').get('events_accepted_total')).toBe(processed);
    expect(componentStats(agent, 'out').get('events_drained_total')).toBe(processed);
  });
});

/**
 * The sink batch counters Flume dashboards read (BatchCompleteCount, BatchUnderflowCount, BatchEmptyCount):
 * a full take is complete, a partial one underflows, a take that finds nothing is empty.
 */
import { describe, expect, it } from 'vitest';
import memory from '../../plugins/channels/memory.ts';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { testContext } from '../testing/context.ts';
import { waitFor } from '../testing/agents.ts';
import type { Channel, Sink } from '../types.ts';
import { DeadLetters } from './dead-letters.ts';
import { InstrumentedChannel } from './instrumented-channel.ts';
import { SinkRunner } from './sink-runner.ts';

async function setup(failFirstWrite = false) {
  const metrics = new MetricsRegistry(false);
  const inner = memory.create({ capacity: 1000, transactionCapacity: 100, byteCapacity: 0, keepAlive: 1 }, testContext('channel', 'memory')) as Channel;
  const channel = new InstrumentedChannel('c', inner, metrics.component('a', 'c', 'channel', 'memory'));
  const stats = metrics.component('a', 'k', 'sink', 'test');
  const batches: number[] = [];
  let fail = failFirstWrite;
  const sink: Sink = {
    write: async (events) => {
      if (fail) throw ((fail = false), new Error('injected: destination briefly down'));
      batches.push(events.length);
    },
  };
  const runner = new SinkRunner({ sink, channel, batchSize: 100, stats, deadLetters: new DeadLetters(undefined, undefined, silentLogger()), log: silentLogger(), pollMs: 20 });
  return { metrics, channel, stats, batches, runner };
}

const events = (n: number) => Array.from({ length: n }, (_, i) => Event.fromData({ id: i }));

describe('sink batch counters', () => {
  it('counts 250 events taken 100 at a time as 2 complete batches and 1 underflow, then empty polls', async () => {
    const { metrics, channel, stats, batches, runner } = await setup();
    // Everything is in the channel before the runner starts, so the takes are 100, 100 and 50.
    await channel.putAll(events(250), AbortSignal.timeout(10_000));
    await runner.start();
    await waitFor('250 events drained', () => stats.get('events_drained_total') === 250);
    await waitFor('an empty poll', () => stats.get('batches_empty_total') > 0);
    await runner.stop(Date.now() + 5_000);

    expect(batches).toEqual([100, 100, 50]);
    expect(stats.get('batches_complete_total')).toBe(2);
    expect(stats.get('batches_underflow_total')).toBe(1);
    // Under Flume's names in /status, as dashboards expect them.
    const status = metrics.status()['SINK.k']!;
    expect(status).toMatchObject({ BatchCompleteCount: '2', BatchUnderflowCount: '1', EventDrainSuccessCount: '250' });
    expect(Number(status.BatchEmptyCount)).toBe(stats.get('batches_empty_total'));
    expect(Number(status.BatchEmptyCount)).toBeGreaterThan(0);
  });

  it('counts a batch once, when it is delivered, not for the failed attempt before its redelivery', async () => {
    const { stats, batches, channel, runner } = await setup(true);
    await channel.putAll(events(100), AbortSignal.timeout(10_000));
    await runner.start();
    await waitFor('100 events drained', () => stats.get('events_drained_total') === 100);
    await runner.stop(Date.now() + 5_000);

    expect(batches).toEqual([100]);
    expect(stats.get('write_failures_total')).toBe(1);
    expect(stats.get('batches_complete_total')).toBe(1);
    expect(stats.get('batches_underflow_total')).toBe(0);
  });
});

/**
 * SinkRunner: permanent failures and partial rejections go to dead letters, a sink that cannot start is retried
 * while the agent runs, stop drains the channel, and a hung write cannot hold a stop forever.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { componentStats, waitFor } from '../testing/agents.ts';
import memory from '../../plugins/channels/memory.ts';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { ComponentStats } from '../metrics/stats.ts';
import { PluginRegistry } from '../registry.ts';
import { startAgent, type RunningAgent } from '../run.ts';
import { testContext } from '../testing/context.ts';
import type { Channel, PluginDefinition, Sink, SourceRunContext } from '../types.ts';
import { DeadLetters } from './dead-letters.ts';
import { InstrumentedChannel } from './instrumented-channel.ts';
import { SinkRunner } from './sink-runner.ts';

const running: RunningAgent[] = [];
const dirs: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const a of running.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let emitter: SourceRunContext | undefined;
const source: PluginDefinition<'source'> = {
  kind: 'source',
  type: 'manual',
  description: 'test source: the test emits through it',
  schema: { type: 'object', properties: {} },
  create: () => ({ run: (ctx) => ((emitter = ctx), new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()))) }),
};
const sinkDef = (type: string, make: () => Sink): PluginDefinition<'sink'> => ({
  kind: 'sink',
  type,
  description: 'test sink',
  schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 10, description: 'Events per take.' } } },
  create: make,
});
function recorder(type: string) {
  const received: Event[] = [];
  return { received, def: sinkDef(type, () => ({ write: async (events) => void received.push(...events) })) };
}

async function start(sink: PluginDefinition, extra: PluginDefinition[] = [], opts = ''): Promise<RunningAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'fta-sink-runner-'));
  dirs.push(dir);
  const yaml = `agents:
  a:
    sources:
      s: { type: manual, channels: [c] }
    channels:
      c: { type: memory, capacity: 1000, transactionCapacity: 100 }
      dlq: { type: memory }
    sinks:
      k: { type: ${sink.type}, channel: c ${opts} }
      dead: { type: deadrec, channel: dlq }
    deadLetter: { channel: dlq }
    shutdownTimeout: 5
`;
  writeFileSync(join(dir, 'agent.yaml'), yaml);
  const registry = new PluginRegistry();
  for (const d of [source, sink, ...extra]) registry.register(d);
  emitter = undefined;
  const agent = await startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false, registry });
  running.push(agent);
  await waitFor('the source', () => emitter !== undefined);
  return agent;
}


const stats = (a: RunningAgent, name: string) => componentStats(a, name);
const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => Event.fromData({ id: from + i }));
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);
/** A real timer turn, so a write is never finished within one burst of microtasks. */
const tick = () => new Promise((r) => setTimeout(r, 2));

describe('SinkRunner', () => {
  it('dead-letters and commits a batch the sink fails with a non-retriable error, never redelivering it', async () => {
    const writes: number[][] = [];
    const sink = sinkDef('picky', () => ({
      async write(events) {
        writes.push(ids(events));
        if (ids(events).includes(1)) throw Object.assign(new Error('schema mismatch'), { retriable: false });
      },
    }));
    const dead = recorder('deadrec');
    const agent = await start(sink, [dead.def]);
    await emitter!.emit(batch(0, 3));
    await waitFor('dead letters', () => dead.received.length >= 3);
    await emitter!.emit(batch(10, 2));
    await waitFor('the next batch', () => writes.length >= 2);
    expect(writes).toEqual([[0, 1, 2], [10, 11]]);
    expect(dead.received.map((e) => [e.headers['dl.reason'], e.headers['dl.component'], e.headers['dl.detail']])).toEqual(Array(3).fill(['sink-rejected', 'k', 'schema mismatch']));
    const k = stats(agent, 'k');
    expect(k.labelled.deadLetters.get('sink-rejected')).toBe(3);
    expect(k.labelled.errors.get('sending')).toBe(1);
    expect(k.get('write_failures_total')).toBe(0);
    expect(k.get('rollbacks_total')).toBe(0);
    await waitFor('the good batch drained', () => k.get('events_drained_total') === 2);
    expect(stats(agent, 'c').get('size')).toBe(0);
  });

  it('sends exactly the events the sink rejects to dead letters and counts the rest as drained', async () => {
    const sink = sinkDef('partial', () => ({
      write: async (events) => ({ rejected: events.filter((_, i) => i % 2 === 1).map((event) => ({ event, reason: 'mapping-conflict', detail: 'field amount' })) }),
    }));
    const dead = recorder('deadrec');
    const agent = await start(sink, [dead.def]);
    await emitter!.emit(batch(0, 6));
    await waitFor('dead letters', () => dead.received.length === 3);
    expect(ids(dead.received)).toEqual([1, 3, 5]);
    expect(dead.received.every((e) => e.headers['dl.reason'] === 'mapping-conflict' && e.headers['dl.detail'] === 'field amount')).toBe(true);
    const k = stats(agent, 'k');
    await waitFor('the commit', () => k.get('events_drained_total') > 0);
    expect(k.get('events_drain_attempts_total')).toBe(6);
    expect(k.get('events_drained_total')).toBe(3);
    expect(k.labelled.deadLetters.get('mapping-conflict')).toBe(3);
    expect(stats(agent, 'c').get('take_success_total')).toBe(6);
  });

  it('retries a sink whose start() fails while the rest of the agent starts', async () => {
    let calls = 0;
    let release!: () => void;
    const secondStart = new Promise<void>((r) => (release = r));
    const received: Event[] = [];
    const sink = sinkDef('late', () => ({
      async start() {
        calls++;
        if (calls === 1) throw new Error('connection refused');
        await secondStart;
      },
      write: async (events) => void received.push(...events),
    }));
    const agent = await start(sink, [recorder('deadrec').def]);
    const k = stats(agent, 'k');
    expect(stats(agent, 's').state).toBe('running');
    await waitFor('the second start attempt', () => calls === 2);
    expect(k.state).toBe('failed');
    expect(k.labelled.errors.get('starting')).toBe(1);
    expect(k.lastError).toBe('connection refused');
    expect(agent.agent.healthy()).toBe(false);
    await emitter!.emit(batch(0, 4)); // the channel buffers meanwhile
    release();
    await waitFor('running', () => k.state === 'running');
    await waitFor('delivery', () => received.length === 4);
    expect(agent.agent.healthy()).toBe(true);
  });

  it('drains what the channel holds on stop before stopping the sink', async () => {
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const sink = sinkDef('slow', () => ({
      write: async (events) => void (await gate, await tick(), log.push(...ids(events).map(String))),
      stop: async () => void log.push('stop'),
    }));
    const agent = await start(sink, [recorder('deadrec').def]);
    for (let b = 0; b < 5; b++) await emitter!.emit(batch(b * 20, 20));
    const stopped = agent.stop();
    open();
    await stopped;
    expect(log).toEqual([...ids(batch(0, 100)).map(String), 'stop']);
    expect(stats(agent, 'c').get('size')).toBe(0);
    expect(stats(agent, 'k').state).toBe('stopped');
  });

  it('does not let a write that never returns hold stop beyond the deadline plus a grace', async () => {
    vi.useFakeTimers();
    const inner = (await memory.create({ capacity: 10, transactionCapacity: 10, byteCapacity: 0, keepAlive: 0 }, testContext('channel', 'memory'))) as Channel;
    const channel = new InstrumentedChannel('c', inner, new ComponentStats('a', 'c', 'channel', 'memory'));
    await channel.putAll(batch(0, 3), new AbortController().signal);
    let writes = 0;
    const sinkStop = vi.fn(async () => undefined);
    const stats = new ComponentStats('a', 'k', 'sink', 'hung');
    const runner = new SinkRunner({
      sink: { write: () => (writes++, new Promise(() => undefined)), stop: sinkStop },
      channel,
      batchSize: 10,
      stats,
      deadLetters: new DeadLetters(undefined, undefined, silentLogger()),
      log: silentLogger(),
    });
    await runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toBe(1);
    let done = false;
    const stopping = runner.stop(Date.now() + 1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(done).toBe(false); // the hung write gets a grace past the deadline
    await vi.advanceTimersByTimeAsync(60_000);
    await stopping;
    expect(done).toBe(true);
    expect(sinkStop).toHaveBeenCalledTimes(1);
    expect(stats.state).toBe('stopped');
    expect(writes).toBe(1);
  });
});

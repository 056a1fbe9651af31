/**
 * SourceRunner through real in-process agents built from YAML: supervision, the acknowledgement across several
 * channels, and optional channels.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { componentStats, TestAgents, waitFor } from '../testing/agents.ts';
import { Event } from '../event.ts';
import type { RunningAgent } from '../run.ts';
import type { PluginDefinition, Sink, Source, SourceRunContext } from '../types.ts';

const agents = new TestAgents();
afterEach(() => agents.stopAll());
const start = (yaml: string, defs: PluginDefinition[]) => agents.start(yaml, defs);


const stats = (a: RunningAgent, name: string) => componentStats(a, name);
const untilAborted = (signal: AbortSignal) => new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => Event.fromData({ id: from + i }));
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);

function sourceDef(type: string, run: (ctx: SourceRunContext) => Promise<void>, close?: () => Promise<void>): PluginDefinition<'source'> {
  return { kind: 'source', type, description: 'test source', schema: { type: 'object', properties: {} }, create: (): Source => ({ run, close }) };
}

/** A sink that records what it receives and can be held shut. */
function recorder(type: string) {
  const state = { received: [] as Event[], open: true, wake: [] as (() => void)[] };
  const def: PluginDefinition<'sink'> = {
    kind: 'sink',
    type,
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 10, description: 'Events per take.' } } },
    create: (): Sink => ({
      async write(events) {
        while (!state.open) await new Promise<void>((r) => state.wake.push(r));
        state.received.push(...events);
      },
    }),
  };
  const open = () => ((state.open = true), state.wake.splice(0).forEach((w) => w()));
  return { state, def, open };
}

describe('SourceRunner', () => {
  it('restarts a source whose run() throws, counting the restart, and returns it to running', async () => {
    let runs = 0;
    let closes = 0;
    const def = sourceDef(
      'crashy',
      async (ctx) => {
        runs++;
        if (runs === 1) throw new Error('input vanished');
        await untilAborted(ctx.signal);
      },
      async () => void closes++,
    );
    const out = recorder('rec');
    const agent = await start(
      `agents:\n  a:\n    sources:\n      s: { type: crashy, channels: [c] }\n    channels:\n      c: { type: memory }\n    sinks:\n      k: { type: rec, channel: c }\n`,
      [def, out.def],
    );
    await waitFor('the second run', () => runs >= 2);
    const s = stats(agent, 's');
    await waitFor('running again', () => s.state === 'running');
    expect(s.get('restarts_total')).toBe(1);
    expect(s.labelled.errors.get('source')).toBe(1);
    expect(s.lastError).toBe('input vanished');
    expect(closes).toBe(1); // the crashed instance was closed before the restart
    expect(agent.agent.healthy()).toBe(true);
  });

  it('does not write a committed channel again while another channel of the batch is full', async () => {
    const acks: number[] = [];
    const def = sourceDef('two', async (ctx) => {
      for (let b = 0; b < 2; b++) {
        await ctx.emit(batch(b * 10, 10));
        acks.push(b);
      }
      await untilAborted(ctx.signal);
    });
    const ok = recorder('okrec');
    const full = recorder('fullrec');
    full.state.open = false;
    const agent = await start(
      `agents:
  a:
    sources:
      s: { type: two, channels: [ok, full] }
    channels:
      ok: { type: memory, capacity: 100, transactionCapacity: 10 }
      full: { type: memory, capacity: 10, transactionCapacity: 10, keepAlive: 0.02 }
    sinks:
      kok: { type: okrec, channel: ok }
      kfull: { type: fullrec, channel: full }
`,
      [def, ok.def, full.def],
    );
    await waitFor('a channel-full retry', () => stats(agent, 's').get('channel_write_failures_total') >= 2);
    expect(acks).toEqual([0]); // the second batch is not acknowledged while "full" has no room
    full.open();
    await waitFor('both batches acknowledged', () => acks.length === 2);
    await waitFor('both sinks drained', () => ok.state.received.length >= 20 && full.state.received.length >= 20);
    expect(ids(ok.state.received)).toEqual(ids(batch(0, 20)));
    expect(ids(full.state.received)).toEqual(ids(batch(0, 20)));
    expect(stats(agent, 'ok').get('put_success_total')).toBe(20);
    expect(stats(agent, 'ok').get('put_attempts_total')).toBe(20);
    expect(stats(agent, 's').get('events_accepted_total')).toBe(20);
    expect(stats(agent, 's').get('batches_accepted_total')).toBe(2);
  });

  it('skips a failing optional channel without blocking or retrying, and counts the error', async () => {
    const acks: number[] = [];
    const def = sourceDef('five', async (ctx) => {
      for (let b = 0; b < 5; b++) {
        await ctx.emit(batch(b * 5, 5));
        acks.push(b);
      }
      await untilAborted(ctx.signal);
    });
    const main = recorder('mainrec');
    const opt = recorder('optrec');
    opt.state.open = false;
    const agent = await start(
      `agents:
  a:
    sources:
      s: { type: five, channels: [main, opt], selector: { type: replicating, optional: [opt] } }
    channels:
      main: { type: memory, capacity: 100, transactionCapacity: 10 }
      opt: { type: memory, capacity: 5, transactionCapacity: 5, keepAlive: 0 }
    sinks:
      kmain: { type: mainrec, channel: main }
      kopt: { type: optrec, channel: opt, batchSize: 5 }
`,
      [def, main.def, opt.def],
    );
    await waitFor('every batch acknowledged', () => acks.length === 5);
    await waitFor('the required channel drained', () => main.state.received.length >= 25);
    expect(ids(main.state.received)).toEqual(ids(batch(0, 25)));
    const s = stats(agent, 's');
    expect(s.get('events_accepted_total')).toBe(25);
    expect(s.get('channel_write_failures_total')).toBe(0); // optional failures are not retried
    expect(s.labelled.errors.get('optional-channel')).toBe(4);
    expect(stats(agent, 'opt').get('put_success_total')).toBe(5);
    opt.open();
    await waitFor('the optional sink got its one batch', () => opt.state.received.length === 5);
    expect(ids(opt.state.received)).toEqual(ids(batch(0, 5)));
  });

  it('counts received and accepted events and batches per emit', async () => {
    const def = sourceDef('counted', async (ctx) => {
      await ctx.emit(batch(0, 3));
      await ctx.emit(batch(3, 4));
    });
    const out = recorder('rec');
    const agent = await start(
      `agents:\n  a:\n    sources:\n      s: { type: counted, channels: [c] }\n    channels:\n      c: { type: memory }\n    sinks:\n      k: { type: rec, channel: c }\n`,
      [def, out.def],
    );
    const s = stats(agent, 's');
    await waitFor('the source completed', () => s.state === 'completed');
    expect(s.get('events_received_total')).toBe(7);
    expect(s.get('events_accepted_total')).toBe(7);
    expect(s.get('batches_received_total')).toBe(2);
    expect(s.get('batches_accepted_total')).toBe(2);
    expect(s.batchDuration.count).toBe(2);
    expect(agent.agent.healthy()).toBe(true); // a finished finite source counts as healthy
  });
});

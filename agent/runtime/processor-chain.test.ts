import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { testContext } from '../testing/context.ts';
import type { Processor } from '../types.ts';
import { ProcessorChain, type ProcessorInstance } from './processor-chain.ts';

const ev = (id: number) => Event.fromData({ id });
const ids = (events: readonly Event[] | undefined) => (events ?? []).map((e) => (e.data as { id: number }).id);

function instance(name: string, processor: Processor): ProcessorInstance {
  const ctx = testContext('processor', 'test', { name });
  return { processor, ctx, stats: ctx.stats };
}

const chain = (...ps: ProcessorInstance[]) => new ProcessorChain(ps, silentLogger());

describe('ProcessorChain', () => {
  it('runs processors in order, each on the output of the previous one', async () => {
    const seen: string[] = [];
    const tag = (name: string): Processor => ({
      process(events) {
        seen.push(`${name}:${ids(events).join(',')}`);
        for (const e of events) e.headers.path = `${e.headers.path ?? ''}${name}`;
        return events;
      },
    });
    const dropOdd: Processor = { process: (events) => events.filter((e) => (e.data as { id: number }).id % 2 === 0) };
    const result = await chain(instance('a', tag('a')), instance('odd', dropOdd), instance('b', tag('b'))).run([ev(1), ev(2), ev(3), ev(4)]);
    expect(seen).toEqual(['a:1,2,3,4', 'b:2,4']);
    expect(ids(result.events)).toEqual([2, 4]);
    expect(result.events.map((e) => e.headers.path)).toEqual(['ab', 'ab']);
  });

  it('accepts async processors', async () => {
    const p: Processor = { process: async (events) => (await Promise.resolve(), events.slice(1)) };
    expect(ids((await chain(instance('p', p)).run([ev(1), ev(2)])).events)).toEqual([2]);
  });

  it('removes a dead-lettered event even when the processor returns the input array', async () => {
    const p = instance('p', {
      process(events, ctx) {
        ctx.deadLetter(events[1]!, 'bad-amount', 'amount < 0');
        return events;
      },
    });
    const result = await chain(p).run([ev(1), ev(2), ev(3)]);
    expect(ids(result.events)).toEqual([1, 3]);
    const rejected = result.rejected.get(p.stats)!;
    expect(rejected.map((r) => [ids([r.event])[0], r.reason, r.detail])).toEqual([[2, 'bad-amount', 'amount < 0']]);
    expect(p.stats.get('events_in_total')).toBe(3);
    expect(p.stats.get('events_out_total')).toBe(2);
  });

  it('dead-letters the whole batch with reason processor-error when a processor throws, and counts the error', async () => {
    let laterCalled = false;
    const bad = instance('bad', {
      process() {
        throw new Error('boom');
      },
    });
    const later = instance('later', { process: (events) => ((laterCalled = true), events) });
    const result = await chain(bad, later).run([ev(1), ev(2)]);
    expect(result.events).toEqual([]);
    expect(laterCalled).toBe(false);
    const rejected = result.rejected.get(bad.stats)!;
    expect(rejected.map((r) => ids([r.event])[0])).toEqual([1, 2]);
    expect(rejected.every((r) => r.reason === 'processor-error' && r.detail === 'boom')).toBe(true);
    expect(bad.stats.labelled.errors.get('processing')).toBe(1);
    expect(bad.stats.lastError).toBe('boom');
    expect(bad.stats.get('events_in_total')).toBe(2);
    expect(bad.stats.get('events_out_total')).toBe(0);
  });

  it('treats an async rejection like a throw', async () => {
    const bad = instance('bad', { process: async () => Promise.reject(new Error('later boom')) });
    const result = await chain(bad).run([ev(1)]);
    expect(result.rejected.get(bad.stats)![0]!.reason).toBe('processor-error');
    expect(bad.stats.labelled.errors.get('processing')).toBe(1);
  });

  it('collects derived events per channel, across processors, and counts them as emitted', async () => {
    const splitter = instance('split', {
      process(events, ctx) {
        ctx.emitTo(['audit', 'alerts'], [ev(100)]);
        ctx.emitTo(['audit'], [ev(101), ev(102)]);
        return events;
      },
    });
    const second = instance('second', {
      process(events, ctx) {
        ctx.emitTo(['alerts'], [ev(200)]);
        return events;
      },
    });
    const result = await chain(splitter, second).run([ev(1)]);
    expect(ids(result.derived.get('audit'))).toEqual([100, 101, 102]);
    expect(ids(result.derived.get('alerts'))).toEqual([100, 200]);
    expect(ids(result.events)).toEqual([1]);
    expect(splitter.stats.get('events_emitted_total')).toBe(4);
    expect(second.stats.get('events_emitted_total')).toBe(1);
  });

  it('does not let the processor mutate the derived list through the array it emitted', async () => {
    const p = instance('p', {
      process(events, ctx) {
        const out = [ev(7)];
        ctx.emitTo(['c'], out);
        out.push(ev(8));
        return events;
      },
    });
    expect(ids((await chain(p).run([ev(1)])).derived.get('c'))).toEqual([7]);
  });

  it('keeps per-processor stats of events in and out, and skips processors once the batch is empty', async () => {
    let calls = 0;
    const all = instance('all', { process: () => [] });
    const never = instance('never', { process: (events) => (calls++, events) });
    await chain(all, never).run([ev(1), ev(2), ev(3)]);
    expect(all.stats.get('events_in_total')).toBe(3);
    expect(all.stats.get('events_out_total')).toBe(0);
    expect(all.stats.batchDuration.count).toBe(1);
    expect(calls).toBe(0);
    expect(never.stats.get('events_in_total')).toBe(0);
  });

  it('returns the input unchanged with no processors', async () => {
    const input = [ev(1)];
    const result = await chain().run(input);
    expect(result.events).toBe(input);
    expect(result.derived.size).toBe(0);
    expect(result.rejected.size).toBe(0);
  });
});

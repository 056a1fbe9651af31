/**
 * Compliance suites: every channel, sink and source implementation (built-in or third-party) passes the suite of
 * its kind. Call one inside a vitest file: `channelCompliance('memory', (o) => build(o))`.
 */
import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { ComponentStats } from '../metrics/stats.ts';
import { DeadLetters } from '../runtime/dead-letters.ts';
import { InstrumentedChannel } from '../runtime/instrumented-channel.ts';
import { SinkRunner } from '../runtime/sink-runner.ts';
import type { Channel, Sink, Source } from '../types.ts';
import { recordingSourceContext } from './context.ts';

const ev = (i: number) => Event.fromData({ id: i }, { seq: String(i) });
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

export interface ChannelOptions {
  capacity: number;
  transactionCapacity: number;
  /** Seconds a put waits for room. */
  keepAlive: number;
}

async function put(ch: Channel, events: Event[]) {
  const tx = ch.beginPut();
  tx.put(events);
  await tx.commit();
}

export function channelCompliance(name: string, make: (o: ChannelOptions) => Promise<Channel>, cleanup: (ch: Channel) => Promise<void> = async (ch) => ch.stop?.()) {
  const build = async (o: Partial<ChannelOptions> = {}) => {
    const ch = await make({ capacity: 100, transactionCapacity: 10, keepAlive: 0.05, ...o });
    await ch.start?.();
    return ch;
  };
  describe(`channel compliance: ${name}`, () => {
    it('makes put events visible only on commit, and removes taken events only on commit', async () => {
      const ch = await build();
      const tx = ch.beginPut();
      tx.put([ev(1), ev(2)]);
      expect((await ch.take(10, 0)).events).toHaveLength(0);
      await tx.commit();
      expect(ch.size()).toBe(2);
      const t = await ch.take(10, 0);
      expect(ids(t.events)).toEqual([1, 2]);
      await t.commit();
      expect(ch.size()).toBe(0);
      await cleanup(ch);
    });

    it('discards a rolled-back put', async () => {
      const ch = await build();
      const tx = ch.beginPut();
      tx.put([ev(1)]);
      tx.rollback();
      expect(ch.size()).toBe(0);
      expect((await ch.take(10, 0)).events).toHaveLength(0);
      await cleanup(ch);
    });

    it('redelivers a rolled-back take first and in order', async () => {
      const ch = await build();
      await put(ch, range(0, 5).map(ev));
      await put(ch, range(5, 10).map(ev));
      const t = await ch.take(3, 0);
      expect(ids(t.events)).toEqual([0, 1, 2]);
      await t.rollback();
      const all = await ch.take(10, 0);
      expect(ids(all.events)).toEqual(range(0, 10));
      await all.commit();
      await cleanup(ch);
    });

    it('rejects a transaction larger than transactionCapacity with a coded error', async () => {
      const ch = await build({ transactionCapacity: 3 });
      const tx = ch.beginPut();
      expect(() => tx.put(range(0, 4).map(ev))).toThrow(expect.objectContaining({ code: 'FTA_TRANSACTION_CAPACITY' }));
      tx.rollback();
      await cleanup(ch);
    });

    it('fails a put that does not fit with a retriable channel-full error, and accepts it once space frees', async () => {
      const ch = await build({ capacity: 10, transactionCapacity: 10 });
      await put(ch, range(0, 10).map(ev));
      await expect(put(ch, [ev(10)])).rejects.toMatchObject({ code: 'FTA_CHANNEL_FULL', retriable: true });
      const waiting = (async () => {
        const tx = ch.beginPut();
        tx.put([ev(11)]);
        return tx.commit();
      })();
      const t = await ch.take(5, 0);
      await t.commit();
      await waiting.catch(async () => put(ch, [ev(11)])); // a channel may time out before the take; then it fits now
      expect(ch.size()).toBe(6);
      await cleanup(ch);
    });

    it('wakes a waiting take when events are committed', async () => {
      const ch = await build();
      const pending = ch.take(10, 5000);
      await put(ch, [ev(7)]);
      const t = await pending;
      expect(ids(t.events)).toEqual([7]);
      await t.commit();
      await cleanup(ch);
    });

    it('loses and duplicates nothing under concurrent producers and consumers', async () => {
      const ch = await build({ capacity: 50, transactionCapacity: 10, keepAlive: 5 });
      const got: number[] = [];
      const producers = range(0, 4).map(async (p) => {
        for (let b = 0; b < 25; b++) await put(ch, range(0, 10).map((i) => ev(p * 1000 + b * 10 + i)));
      });
      let done = false;
      const consumer = (async () => {
        let flip = false;
        while (!done || ch.size() > 0) {
          const t = await ch.take(7, 20);
          if (t.events.length && (flip = !flip)) await t.rollback();
          else (got.push(...ids(t.events)), await t.commit());
        }
      })();
      await Promise.all(producers);
      done = true;
      await consumer;
      expect(got.length).toBe(1000);
      expect(new Set(got).size).toBe(1000);
      await cleanup(ch);
    });

    it('is counted by the framework (put and take metrics, size, capacity)', async () => {
      const stats = new ComponentStats('t', name, 'channel', name);
      const ch = new InstrumentedChannel(name, await build(), stats);
      await put(ch, range(0, 4).map(ev));
      const t = await ch.take(4, 0);
      await t.commit();
      expect(stats.get('put_success_total')).toBe(4);
      expect(stats.get('take_success_total')).toBe(4);
      expect(stats.get('capacity')).toBe(100);
      expect(stats.get('size')).toBe(0);
      await cleanup(ch.inner);
    });
  });
}

/** A sink passes when what `readBack` finds after `stop` is exactly what was written, and failures roll back. */
export function sinkCompliance(name: string, make: () => Promise<Sink>, readBack: (() => Promise<string[]>) | undefined, options: { events?: number } = {}) {
  const n = options.events ?? 2000;
  describe(`sink compliance: ${name}`, () => {
    it('delivers every event exactly once through the runner, with the standard metrics', async () => {
      const mem = (await import('../../plugins/channels/memory.ts')).default;
      const chStats = new ComponentStats('t', 'c', 'channel', 'memory');
      const inner = (await mem.create({ capacity: 10_000, transactionCapacity: 1000, byteCapacity: 0, keepAlive: 3 }, { name: 'c' } as never)) as Channel;
      const channel = new InstrumentedChannel('c', inner, chStats);
      const stats = new ComponentStats('t', name, 'sink', name);
      const controller = new AbortController();
      let failures = 1;
      const real = await make();
      // The first write fails: the runner must roll back and redeliver the same batch.
      const sink: Sink = { ...real, start: real.start?.bind(real), stop: real.stop?.bind(real), idle: real.idle?.bind(real), write: (events) => (failures-- > 0 ? Promise.reject(new Error('injected failure')) : real.write(events)) };
      const runner = new SinkRunner({ sink, channel, batchSize: 100, stats, deadLetters: new DeadLetters(undefined, undefined, silentLogger()), log: silentLogger(), pollMs: 50 });
      await runner.start();
      for (let i = 0; i < n; i += 500) await channel.putAll(range(i, Math.min(n, i + 500)).map((k) => Event.fromData({ id: k })), controller.signal);
      await runner.stop(Date.now() + 30_000);
      if (readBack) {
        const seen = (await readBack()).map((l) => (JSON.parse(l) as { id: number }).id).sort((a, b) => a - b);
        expect(seen).toEqual(range(0, n));
      }
      expect(stats.get('events_drained_total')).toBe(n);
      expect(stats.get('write_failures_total')).toBe(1);
      expect(stats.get('rollbacks_total')).toBeGreaterThan(0);
      expect(channel.size()).toBe(0);
    });
  });
}

/**
 * A source passes when it delivers every prepared record once and stops promptly on abort; a resumable source
 * (one with a durable position) must also redeliver, from a new instance, a batch whose emit was not acknowledged.
 */
export function sourceCompliance(
  name: string,
  make: () => Promise<Source>,
  prepare: (n: number) => Promise<void>,
  idOf: (e: Event) => string,
  options: { events?: number; resumable?: boolean } = {},
) {
  const n = options.events ?? 1000;
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  describe(`source compliance: ${name}`, () => {
    it('delivers the prepared input exactly once, in batches, and returns from run() on abort', async () => {
      await prepare(n);
      const ctx = recordingSourceContext(name);
      const source = await make();
      const run = source.run(ctx);
      await until(() => ctx.batches.flat().length >= n);
      ctx.controller.abort();
      await run;
      await source.close?.();
      const all = ctx.batches.flat().map(idOf);
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
      expect(ctx.batches.length).toBeLessThan(n); // batched, not one event per emit
    });

    it('emits an unacknowledged batch again on its next run (the put failed: nothing is lost or repeated)', async () => {
      await prepare(n);
      const source = await make();
      const first = recordingSourceContext(name);
      first.failNext(1);
      const run1 = source.run(first).catch(() => undefined);
      // A source stops when a put fails; one that keeps going must still not have skipped the refused batch.
      await until(() => first.attempts >= 1);
      first.controller.abort();
      await run1;
      expect(first.attempts).toBeGreaterThanOrEqual(1);
      const second = recordingSourceContext(name);
      const run2 = source.run(second);
      await until(() => first.batches.flat().length + second.batches.flat().length >= n);
      second.controller.abort();
      await run2;
      await source.close?.();
      const all = [...first.batches.flat(), ...second.batches.flat()].map(idOf);
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
    });

    if (options.resumable) {
      it('redelivers an unacknowledged batch from a new instance, and loses nothing', async () => {
        await prepare(n);
        const first = recordingSourceContext(name);
        first.failNext(1);
        const s1 = await make();
        const run1 = s1.run(first).catch(() => undefined);
        await until(() => first.attempts > 1 || (first.attempts === 1 && first.batches.length === 0));
        first.controller.abort();
        await run1;
        await s1.close?.();
        const second = recordingSourceContext(name);
        const s2 = await make();
        const run2 = s2.run(second);
        await until(() => first.batches.flat().length + second.batches.flat().length >= n);
        second.controller.abort();
        await run2;
        await s2.close?.();
        const all = [...first.batches.flat(), ...second.batches.flat()].map(idOf);
        expect(new Set(all).size).toBe(n);
        expect(all.length).toBe(n);
      });
    }
  });
}

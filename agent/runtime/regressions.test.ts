/**
 * Regressions for bugs found by review: dead letters that could hang a stop, selector lookups through
 * Object.prototype, double dead-lettering after a processor throws, plugin histograms leaking across kinds, and
 * events no selector route takes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { PluginRegistry } from '../registry.ts';
import { startAgent } from '../run.ts';
import { testContext } from '../testing/context.ts';
import type { PluginDefinition } from '../types.ts';
import { ProcessorChain } from './processor-chain.ts';
import { createSelector } from './selector.ts';

const ev = (id: number, headers: Record<string, string> = {}) => Event.fromData({ id }, headers);
const empty = { type: 'object', properties: {} };

async function agent(yaml: string, defs: PluginDefinition[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fta-regress-'));
  writeFileSync(join(dir, 'agent.yaml'), yaml);
  const registry = new PluginRegistry();
  for (const d of defs) registry.register(d);
  return startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false, registry });
}
const stat = (a: Awaited<ReturnType<typeof agent>>, name: string, m: string) => a.metrics.components.find((c) => c.name === name)!.get(m);

const rejectAll: PluginDefinition<'processor'> = {
  kind: 'processor', type: 'reject-all', description: 'test', schema: empty,
  create: () => ({ process: (events, ctx) => (events.forEach((e) => ctx.deadLetter(e, 'bad')), events) }),
};
const twenty: PluginDefinition<'source'> = {
  kind: 'source', type: 'twenty', description: 'test', schema: empty,
  create: () => ({ async run(ctx) { await ctx.emit(Array.from({ length: 20 }, (_, i) => ev(i))); if (!ctx.signal.aborted) await new Promise((r) => ctx.signal.addEventListener('abort', r)); } }),
};
const stuck: PluginDefinition<'sink'> = {
  kind: 'sink', type: 'stuck', description: 'test', schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 100, description: 'x' } } },
  create: () => ({ write: () => new Promise(() => {}) }),
};

describe('runtime regressions', () => {
  it('puts dead letters in transactions the dead-letter channel can hold', async () => {
    const a = await agent(
      `agents:\n  a:\n    sources: { s: { type: twenty, channels: [c], processors: [p] } }\n    processors: { p: { type: reject-all } }\n    channels: { c: { type: memory }, dlq: { type: memory, capacity: 100, transactionCapacity: 10 } }\n    sinks: { k: { type: null, channel: c }, d: { type: null, channel: dlq, batchSize: 10 } }\n    deadLetter: { channel: dlq }\n`,
      [rejectAll, twenty],
    );
    const deadline = Date.now() + 10_000;
    while (stat(a, 'd', 'events_drained_total') < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stat(a, 'd', 'events_drained_total')).toBe(20);
    await a.stop();
  });

  it('stops even when the dead-letter channel is full and its sink is stuck', async () => {
    const a = await agent(
      `agents:\n  a:\n    sources: { s: { type: twenty, channels: [c], processors: [p] } }\n    processors: { p: { type: reject-all } }\n    channels: { c: { type: memory }, dlq: { type: memory, capacity: 5, transactionCapacity: 5, keepAlive: 0.05 } }\n    sinks: { k: { type: null, channel: c }, d: { type: stuck, channel: dlq, batchSize: 5 } }\n    deadLetter: { channel: dlq }\n    shutdownTimeout: 1s\n`,
      [rejectAll, twenty, stuck],
    );
    await new Promise((r) => setTimeout(r, 300));
    await a.stop(); // must return: the source's own stop signal ends the dead-letter retries
    const dropped = a.metrics.components.find((c) => c.name === 'p')!.labelled.dropped;
    expect([...dropped.keys()].some((k) => k.startsWith('dead-letter-unavailable:'))).toBe(true);
  });

  it('routes header values named like Object.prototype members to the default channels', () => {
    const route = createSelector(['a', 'b'], { type: 'multiplexing', header: 'h', mapping: { x: ['a'] }, default: ['b'] });
    const r = route([ev(1, { h: 'constructor' }), ev(2, { h: '__proto__' }), ev(3, { h: 'x' })]);
    expect(r.required.get('b')!.map((e) => e.data.id)).toEqual([1, 2]);
    expect(r.required.get('a')!.map((e) => e.data.id)).toEqual([3]);
  });

  it('reports events no route takes instead of dropping them silently', async () => {
    const route = createSelector(['a'], { type: 'multiplexing', header: 'h', mapping: { x: ['a'] } });
    expect(route([ev(1, { h: 'y' })]).unrouted!.map((e) => e.data.id)).toEqual([1]);
  });

  it('dead-letters each event once when a processor throws after rejecting some, and discards its derived events', async () => {
    const ctx = testContext('processor', 'thrower');
    const chain = new ProcessorChain(
      [{ ctx, stats: ctx.stats, processor: { process(events, pctx) { pctx.deadLetter(events[0]!, 'bad'); pctx.emitTo(['x'], [ev(9)]); throw new Error('boom'); } } }],
      silentLogger(),
    );
    const r = await chain.run([ev(1), ev(2)]);
    const list = r.rejected.get(ctx.stats)!;
    expect(list.map((x) => [x.event.data.id, x.reason])).toEqual([[1, 'processor-error'], [2, 'processor-error']]);
    expect(r.derived.size).toBe(0);
  });

  it('keeps plugin histograms of different kinds apart', async () => {
    const m = new MetricsRegistry(false);
    const ch = m.component('a', 'wal', 'channel', 'file');
    const sk = m.component('a', 'out', 'sink', 'hdfs');
    ch.histogram('fsync_seconds', 'x').observe(0.001);
    sk.histogram('fsync_seconds', 'x').observe(0.002);
    const text = await m.prometheus();
    expect(text).toMatch(/fintrans_channel_fsync_seconds_count\{[^}]*component="wal"[^}]*\} 1/);
    expect(text).not.toMatch(/fintrans_channel_fsync_seconds_count\{[^}]*component="out"/);
    expect(text).toMatch(/fintrans_sink_fsync_seconds_count\{[^}]*component="out"[^}]*\} 1/);
  });
});

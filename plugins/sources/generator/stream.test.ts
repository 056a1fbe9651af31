import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import type { Event } from '../../../agent/index.ts';
import { type RecordingSourceContext, recordingSourceContext } from '../../../agent/testing/context.ts';
import generator, { type GeneratorConfig, generate, plantedGroups } from '../generator.ts';
import { MAX_PENDING } from './planter.ts';
import { TransactionStream } from './stream.ts';

const START = '2024-01-01T00:00:00Z';

function configOf(partial: Partial<GeneratorConfig>): GeneratorConfig {
  const config = structuredClone(partial) as Record<string, unknown>;
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(generator.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as unknown as GeneratorConfig;
}

/** What a sink would see of an event: its headers and its bytes. */
const seen = (e: Event) => JSON.stringify(e.headers) + e.text;

/** Runs a finite source to its end (running it again after each unacknowledged batch) and returns what it emitted. */
async function runToEnd(partial: Partial<GeneratorConfig>, ctx: RecordingSourceContext = recordingSourceContext('generator')) {
  const source = await generator.create(configOf(partial), ctx);
  for (let runs = 0; ctx.batches.flat().length < partial.count! && runs < 1000; runs++) await source.run(ctx);
  return { ctx, events: ctx.batches.flat() };
}

describe('generator stream with anomalies', () => {
  const anomalies = { bursts: { rate: 0.01 }, largeAmounts: { rate: 0.01 }, locationHops: { rate: 0.01 } };

  test('the same settings give the same bytes and headers, whatever the batch size, and match generate()', async () => {
    const config = { count: 5000, seed: 21, startTime: START, anomalies };
    const a = (await runToEnd({ ...config, batchSize: 1000 })).events.map(seen);
    const b = (await runToEnd({ ...config, batchSize: 13 })).events.map(seen);
    expect(a).toHaveLength(5000);
    expect(b).toEqual(a);
    expect(generate(config).map(seen)).toEqual(a);
    expect(a.filter((s) => s.includes('"plantedGroup"')).length).toBeGreaterThan(500);
    const other = generate({ ...config, seed: 22 }).map(seen);
    expect(other.filter((s, i) => s === a[i])).toHaveLength(0);
  });

  test('a planted event replaces the clean event of its slot, changing only the planted fields', () => {
    const config = { count: 20_000, seed: 6, startTime: START };
    const clean = generate(config);
    const mixed = generate({ ...config, anomalies });
    let planted = 0;
    for (const [i, e] of mixed.entries()) {
      if (e.headers.planted === undefined) {
        expect(e.text).toBe(clean[i]!.text);
        continue;
      }
      planted++;
      const { userId, location, amount, ...rest } = e.data;
      const { userId: u, location: l, amount: a, ...cleanRest } = clean[i]!.data;
      expect(rest).toEqual(cleanRest);
      expect(userId).not.toBe(u);
    }
    expect(planted).toBeGreaterThan(2000);
  });

  test('an unacknowledged batch, even in the middle of a burst, is emitted again identically', async () => {
    const config = { count: 700, seed: 3, startTime: START, batchSize: 7, anomalies: { bursts: { rate: 0.02 }, locationHops: { rate: 0.02 } } };
    const ctx = recordingSourceContext('generator');
    // Every third emit fails, as a stopping agent would: the source returns and the next run resumes.
    const emit = ctx.emit.bind(ctx);
    let attempt = 0;
    const failing = { ...ctx, emit: (events: Event[]) => (++attempt % 3 === 0 ? Promise.reject(new Error('stopping')) : emit(events)) };
    const source = await generator.create(configOf(config), failing);
    while (ctx.batches.flat().length < 700) await source.run(failing);
    const events = ctx.batches.flat();
    expect(attempt).toBeGreaterThan(140);
    expect(events.map(seen)).toEqual(generate(config).map(seen));
    // Bursts of 15 in batches of 7 always straddle batches, so some rewinds happened with a burst in flight.
    const bursts = plantedGroups(config).filter((g) => g.pattern === 'burst');
    expect(bursts.length).toBeGreaterThan(5);
    // Counters count acknowledged events only: a rewound batch is not counted twice.
    const count = (p: string) => events.filter((e) => e.headers.planted === p).length;
    expect(ctx.stats.get('planted_burst_events_total')).toBe(count('burst'));
    expect(ctx.stats.get('planted_burst_events_total')).toBe(bursts.length * 15);
    expect(ctx.stats.get('planted_location_hop_events_total')).toBe(count('locationHop'));
    expect(ctx.stats.get('planted_large_amount_events_total')).toBe(0);
  });

  test('an instance that would not finish before count is not started', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const groups = plantedGroups({ count: 400, seed, startTime: START, anomalies: { bursts: { rate: 0.03 } } });
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) expect(g.positions).toHaveLength(15);
    }
  });

  test('reserved planted events stay bounded; instances beyond the bound are skipped and counted', async () => {
    // Every slot starts a burst of 1000 (lint would refuse this; the bound must hold anyway).
    const stream = new TransactionStream({ schema: 'financial_transactions', seed: 1, count: 0, anomalies: { bursts: { rate: 1, size: 1000 } } });
    for (let i = 0; i < 30; i++) {
      const batch = stream.batch(1000, 0, 1, 0);
      expect(batch.every((e) => e.headers.planted === 'burst')).toBe(true);
      expect(stream.save().planter!.pending.length).toBeLessThanOrEqual(MAX_PENDING);
    }
    expect(stream.planted().skipped).toBeGreaterThan(20_000);
    const ctx = recordingSourceContext('generator');
    const source = await generator.create(configOf({ count: 20_000, anomalies: { bursts: { rate: 1, size: 1000 } } }), ctx);
    await source.run(ctx);
    expect(ctx.stats.get('planted_skipped_total')).toBeGreaterThan(0);
  });

  test('without startTime planted events carry the batch time like the clean ones', async () => {
    const { events } = await runToEnd({ count: 3000, seed: 4, anomalies });
    const planted = events.filter((e) => e.headers.planted !== undefined);
    expect(planted.length).toBeGreaterThan(100);
    for (const e of planted) expect(Math.abs(e.data.transactionTime - Date.now() / 1000)).toBeLessThan(60);
  });

  test('without anomalies the clean stream carries no headers and no planted metrics', async () => {
    const { ctx, events } = await runToEnd({ count: 2000, seed: 4, startTime: START });
    expect(events.every((e) => Object.keys(e.headers).length === 0)).toBe(true);
    expect(ctx.stats.counters.has('planted_burst_events_total')).toBe(false);
  });
});

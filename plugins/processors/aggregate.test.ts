import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, test } from 'vitest';
import { Event, type Processor } from '../../agent/index.ts';
import { type RecordingProcessContext, recordingProcessContext } from '../../agent/testing/context.ts';
import aggregate, { type AggregateConfig } from './aggregate.ts';

const validator = new Ajv({ useDefaults: true, strict: false, allowUnionTypes: true }).compile(aggregate.schema);
const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const S = 1000;
const MIN = 60 * S;
const BASE = {
  groupBy: ['merchantId'],
  window: { type: 'tumbling', size: '60s' },
  timeField: 'transactionTime',
  metrics: { totalAmount: { op: 'sum', field: 'amount' }, avgAmount: { op: 'avg', field: 'amount' }, maxAmount: { op: 'max', field: 'amount' }, txCount: { op: 'count' } },
  emitTo: ['agg_channel'],
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fta-aggregate-'));
  dirs.push(d);
  return d;
}

async function make(partial: Record<string, unknown> = {}, options: { configDir?: string } = {}) {
  const config = structuredClone({ ...BASE, ...partial });
  if (!validator(config)) throw new Error(JSON.stringify(validator.errors));
  const ctx = recordingProcessContext('aggregate', options);
  const p: Processor = await aggregate.create(Object.freeze(config) as unknown as AggregateConfig, ctx);
  return { p, ctx };
}
const tx = (time: unknown, merchantId: unknown, amount: unknown = 1, extra: Record<string, unknown> = {}) =>
  Event.fromText(JSON.stringify({ transactionTime: time, merchantId, amount, ...extra }));
/** The bodies of every result emitted so far. */
const results = (ctx: RecordingProcessContext) => ctx.emitted.flatMap((e) => e.events.map((ev) => ev.data as Record<string, any>));
const at = (ms: number) => new Date(ms).toISOString();

describe('aggregate: windows', () => {
  test('tumbling windows are aligned, [start, end), emitted once with ISO bounds, and the events pass through', async () => {
    const { p, ctx } = await make();
    const batch = [
      tx((T0 + 0) / 1000, 'm1', 10.5), // epoch seconds
      tx(T0 + 59_999, 'm1', 0.25), // epoch milliseconds
      tx('2024-01-01T10:00:30Z', 'm2', 3),
      tx('2024-01-01T10:01:00.000Z', 'm1', 1), // exactly at windowEnd: the next window, and it closes the first
    ];
    const texts = batch.map((e) => e.text);
    expect(await p.process(batch, ctx)).toBe(batch);
    expect(batch.map((e) => e.text)).toEqual(texts);
    expect(ctx.emitted).toHaveLength(1);
    expect(ctx.emitted[0]!.channels).toEqual(['agg_channel']);
    expect(ctx.emitted[0]!.events.map((e) => e.text)).toEqual([
      '{"windowStart":"2024-01-01T10:00:00.000Z","windowEnd":"2024-01-01T10:01:00.000Z","merchantId":"m1","totalAmount":10.75,"avgAmount":5.38,"maxAmount":10.5,"txCount":2}',
      '{"windowStart":"2024-01-01T10:00:00.000Z","windowEnd":"2024-01-01T10:01:00.000Z","merchantId":"m2","totalAmount":3,"avgAmount":3,"maxAmount":3,"txCount":1}',
    ]);
    expect(results(ctx)[0]).toEqual({ windowStart: at(T0), windowEnd: at(T0 + MIN), merchantId: 'm1', totalAmount: 10.75, avgAmount: 5.38, maxAmount: 10.5, txCount: 2 });

    await p.process([tx(T0 + 2 * MIN, 'm1', 5)], ctx);
    expect(results(ctx).slice(2)).toEqual([{ windowStart: at(T0 + MIN), windowEnd: at(T0 + 2 * MIN), merchantId: 'm1', totalAmount: 1, avgAmount: 1, maxAmount: 1, txCount: 1 }]);
    expect(ctx.stats.get('windows_emitted_total')).toBe(3);
  });

  test('allowedLateness: within it still counted; beyond it a copy goes to dead letters as "late"', async () => {
    const { p, ctx } = await make({ allowedLateness: '5s' });
    await p.process([tx(T0 + 10 * S, 'm1', 1), tx(T0 + MIN + 4 * S, 'm1', 2), tx(T0 + 50 * S, 'm1', 4)], ctx);
    expect(ctx.emitted).toHaveLength(0); // watermark 10:00:59 has not reached 10:01
    const late = tx(T0 + 59 * S, 'm1', 16);
    const batch = [tx(T0 + MIN + 5 * S, 'm1', 8), late];
    const out = await p.process(batch, ctx);
    expect(results(ctx).map((r) => [r.windowStart, r.totalAmount, r.txCount])).toEqual([[at(T0), 5, 2]]);
    expect(ctx.deadLetters).toHaveLength(1);
    const dl = ctx.deadLetters[0]!;
    expect(dl.reason).toBe('late');
    expect(dl.detail).toMatch(/event time 2024-01-01T10:00:59.000Z is in windows that closed \(watermark 2024-01-01T10:01:00.000Z\)/);
    expect(dl.event).not.toBe(late); // a copy: the chain removes dead letters by identity, the original continues
    expect(dl.event.text).toBe(late.text);
    expect(out).toContain(late);
    expect(ctx.stats.get('events_late_total')).toBe(1);
  });

  test('hopping windows count each event in size / advance windows', async () => {
    const { p, ctx } = await make({ window: { type: 'hopping', size: '3m', advance: '1m' }, metrics: { total: { op: 'sum', field: 'amount' }, n: { op: 'count' } } });
    await p.process([tx(T0 + 30 * S, 'a', 1), tx(T0 + 90 * S, 'a', 2), tx(T0 + 150 * S, 'a', 4), tx(T0 + 6 * MIN, 'zz', 0)], ctx);
    expect(results(ctx).map((r) => [r.windowStart.slice(11, 16), r.windowEnd.slice(11, 16), r.total, r.n])).toEqual([
      ['09:58', '10:01', 1, 1],
      ['09:59', '10:02', 3, 2],
      ['10:00', '10:03', 7, 3],
      ['10:01', '10:04', 6, 2],
      ['10:02', '10:05', 4, 1],
    ]);
  });

  test('processing time: windows close on tick while no events arrive; event time has no tick', async () => {
    const { p, ctx } = await make({ timeField: undefined });
    const before = Date.now();
    await p.process([tx('not a time', 'm1', 1), tx(null, 'm1', 2), tx(undefined, 'm2', 4)], ctx);
    const after = Date.now();
    await p.tick!(before, ctx);
    expect(ctx.emitted).toHaveLength(0);
    await p.tick!(after + MIN, ctx);
    const r = results(ctx);
    expect(r.map((x) => [x.merchantId, x.totalAmount, x.txCount])).toEqual([['m1', 3, 2], ['m2', 4, 1]]);
    const start = Date.parse(r[0]!.windowStart);
    expect(start % MIN).toBe(0);
    expect(start).toBeGreaterThanOrEqual(Math.floor(before / MIN) * MIN);
    expect(start).toBeLessThanOrEqual(after);
    await p.tick!(after + 10 * MIN, ctx);
    expect(results(ctx)).toHaveLength(2);
    expect((await make()).p.tick).toBeUndefined();
  });

  test('groupBy on several and dotted fields keeps value types apart and groups missing values as null', async () => {
    const { p, ctx } = await make({ groupBy: ['merchantId', 'payer.country'], metrics: { n: { op: 'count' } } });
    await p.process(
      [tx(T0, 'm1', 1, { payer: { country: 'DE' } }), tx(T0, 'm1', 1, { payer: { country: 'DE' } }), tx(T0, 5, 1, { payer: {} }), tx(T0, '5', 1), tx(T0 + MIN, 'x', 1)],
      ctx,
    );
    expect(results(ctx).map((r) => [r.merchantId, r['payer.country'], r.n])).toEqual([['m1', 'DE', 2], [5, null, 1], ['5', null, 1]]);
  });
});

describe('aggregate: bounds and bad input', () => {
  test('maxGroups closes the windows with the oldest end early, as partial, and counts them', async () => {
    const { p, ctx } = await make({ allowedLateness: '1h', maxGroups: 3 });
    await p.process([tx(T0, 'm1', 1), tx(T0, 'm2', 2), tx(T0 + MIN, 'm1', 4)], ctx);
    expect(ctx.stats.get('open_groups')).toBe(3);
    expect(ctx.emitted).toHaveLength(0);
    await p.process([tx(T0 + MIN, 'm3', 8), tx(T0 + 30 * S, 'm1', 16)], ctx);
    expect(results(ctx).map((r) => [r.windowStart, r.merchantId, r.totalAmount, r.partial])).toEqual([[at(T0), 'm1', 1, true], [at(T0), 'm2', 2, true]]);
    expect(ctx.stats.get('windows_closed_early_total')).toBe(2);
    expect(ctx.stats.get('open_groups')).toBe(2);
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(['late']); // its window was emitted already
  });

  test('missing or unreadable times and non-numeric metric fields go to dead letters with reasons, uncounted', async () => {
    const { p, ctx } = await make();
    const batch = [
      tx(T0, 'm1', 2),
      Event.fromText(JSON.stringify({ merchantId: 'm1', amount: 1 })),
      tx('yesterday', 'm1', 1),
      tx(T0, 'm1', '12.50'),
      tx(T0, 'm1', null),
      Event.fromText('not json'),
    ];
    const out = await p.process(batch, ctx);
    expect(out).toBe(batch);
    expect(ctx.deadLetters.map((d) => [d.reason, d.detail])).toEqual([
      ['no-time', 'time field "transactionTime" is missing, not epoch seconds/milliseconds or ISO-8601'],
      ['no-time', 'time field "transactionTime" is "yesterday" (string), not epoch seconds/milliseconds or ISO-8601'],
      ['invalid-field', 'metric field "amount" is "12.50" (string), not a number'],
      ['invalid-field', 'metric field "amount" is null (null), not a number'],
      ['no-time', 'time field "transactionTime" is missing, not epoch seconds/milliseconds or ISO-8601'],
    ]);
    expect(ctx.deadLetters.every((d, i) => !batch.includes(d.event) && d.event.text === batch[[1, 2, 3, 4, 5][i]!]!.text)).toBe(true);
    expect([ctx.stats.get('events_no_time_total'), ctx.stats.get('events_invalid_field_total')]).toEqual([3, 2]);
    await p.stop!(ctx);
    expect(results(ctx).map((r) => [r.totalAmount, r.txCount, r.partial])).toEqual([[2, 1, true]]);
  });
});

describe('aggregate: exact sums', () => {
  test('a million amounts of 0.1 sum to exactly 100000', async () => {
    const { p, ctx } = await make();
    for (let b = 0; b < 100; b++) {
      const batch = new Array<Event>(10_000);
      for (let i = 0; i < batch.length; i++) batch[i] = Event.fromData({ transactionTime: T0 + i, merchantId: 'm', amount: 0.1 });
      await p.process(batch, ctx);
    }
    await p.stop!(ctx);
    expect(results(ctx)).toEqual([{ windowStart: at(T0), windowEnd: at(T0 + MIN), merchantId: 'm', totalAmount: 100000, avgAmount: 0.1, maxAmount: 0.1, txCount: 1_000_000, partial: true }]);
  });

  test('random cents sum to the integer-cent sum exactly, per merchant', async () => {
    const { p, ctx } = await make();
    const cents = new Map<string, number>();
    let seed = 3;
    const batch: Event[] = [];
    for (let i = 0; i < 100_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const c = seed % 100_000_000; // up to 999,999.99
      const m = `m${seed % 7}`;
      cents.set(m, (cents.get(m) ?? 0) + c);
      batch.push(Event.fromData({ transactionTime: T0 + (i % MIN), merchantId: m, amount: c / 100 }));
    }
    await p.process(batch, ctx);
    await p.stop!(ctx);
    const got = Object.fromEntries(ctx.emitted[0]!.events.map((e) => [e.data.merchantId, /"totalAmount":([\d.]+)/.exec(e.text)![1]]));
    expect(got).toEqual(Object.fromEntries([...cents].map(([m, c]) => [m, `${Math.floor(c / 100)}${c % 100 ? `.${String(c % 100).padStart(2, '0').replace(/0$/, '')}` : ''}`])));
  });
});

describe('aggregate: stop and restart', () => {
  test('without stateDir a stop emits every open window with partial: true', async () => {
    const { p, ctx } = await make({ allowedLateness: '2m' });
    await p.process([tx(T0, 'm1', 1), tx(T0 + MIN, 'm1', 2), tx(T0 + MIN, 'm2', 3)], ctx);
    expect(ctx.emitted).toHaveLength(0);
    await p.stop!(ctx);
    expect(ctx.emitted[0]!.events.map((e) => e.text.endsWith(',"txCount":1,"partial":true}'))).toEqual([true, true, true]);
    expect(results(ctx).map((r) => [r.windowStart, r.merchantId])).toEqual([[at(T0), 'm1'], [at(T0 + MIN), 'm1'], [at(T0 + MIN), 'm2']]);
    expect(ctx.stats.get('open_groups')).toBe(0);
  });

  test('a restart with stateDir neither loses nor double counts a window', async () => {
    const events = () => {
      const list: Event[] = [];
      for (let i = 0; i < 600; i++) list.push(tx(T0 + i * 500 - (i % 4) * 1000, `m${i % 3}`, ((i * 37) % 1000) / 100));
      list.push(tx(T0 + 3600 * S, 'flush', 0));
      return list;
    };
    const batches = (list: Event[]) => Array.from({ length: Math.ceil(list.length / 50) }, (_, k) => list.slice(k * 50, k * 50 + 50));
    const byWindow = (ctxs: RecordingProcessContext[]) => {
      const seen = new Map<string, Record<string, any>>();
      for (const r of ctxs.flatMap(results)) {
        const id = `${r.windowStart}|${r.merchantId}`;
        if (seen.has(id)) throw new Error(`${id} emitted twice`);
        seen.set(id, r);
      }
      return seen;
    };
    const config = { allowedLateness: '5s', stateDir: 'state' };

    const single = await make(config, { configDir: tempDir() });
    for (const b of batches(events())) await single.p.process(b, single.ctx);

    const configDir = tempDir();
    const all = batches(events());
    const a = await make(config, { configDir });
    for (const b of all.slice(0, 7)) await a.p.process(b, a.ctx);
    await a.p.stop!(a.ctx);
    expect(readdirSync(join(configDir, 'state'))).toEqual(['test.test_aggregate.aggregate.json']); // relative to configDir
    const b = await make(config, { configDir });
    expect(readdirSync(join(configDir, 'state'))).toEqual([]); // consumed
    expect(b.ctx.stats.get('open_groups')).toBe(a.ctx.stats.get('open_groups'));
    for (const batch of all.slice(7)) await b.p.process(batch, b.ctx);

    const split = byWindow([a.ctx, b.ctx]);
    expect(split.size).toBe(6 * 3); // 10:00 to 10:05 for three merchants
    expect(results(a.ctx).length).toBeGreaterThan(0); // the split fell between closed windows and open ones
    expect(a.ctx.deadLetters.length + b.ctx.deadLetters.length).toBe(0);
    expect([...split.values()].some((r) => r.partial)).toBe(false);
    expect(split).toEqual(byWindow([single.ctx]));

    await b.p.stop!(b.ctx); // only the flush window is open: it is saved, not emitted
    expect(byWindow([a.ctx, b.ctx]).size).toBe(split.size);
    const c = await make(config, { configDir });
    expect(c.ctx.stats.get('open_groups')).toBe(1);
  });

  test('a corrupt or incompatible state file is moved aside and the processor starts empty', async () => {
    const configDir = tempDir();
    const first = await make({ stateDir: 'state' }, { configDir });
    await first.p.process([tx(T0, 'm1', 1)], first.ctx);
    await first.p.stop!(first.ctx);
    const file = join(configDir, 'state', 'test.test_aggregate.aggregate.json');

    const other = await make({ stateDir: 'state', window: { type: 'tumbling', size: '5m' } }, { configDir });
    expect(other.ctx.stats.get('state_files_corrupt_total')).toBe(1);
    expect(other.ctx.stats.get('open_groups')).toBe(0);
    expect(existsSync(`${file}.corrupt`)).toBe(true);

    writeFileSync(file, '{"version":1,"signature":');
    const again = await make({ stateDir: 'state' }, { configDir });
    expect(again.ctx.stats.get('state_files_corrupt_total')).toBe(1);
    await again.p.process([tx(T0, 'm1', 1), tx(T0 + MIN, 'm1', 1)], again.ctx);
    expect(results(again.ctx).map((r) => r.txCount)).toEqual([1]);
  });
});

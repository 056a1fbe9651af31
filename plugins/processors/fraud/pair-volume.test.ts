import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const validate = compile(componentSchema('processor', fraud.schema));

async function fraudWith(rule: object = {}, options: object = {}) {
  const config = {
    type: 'fraud',
    emitTo: ['anomalies'],
    timeField: 'ts',
    rules: [{ id: 'laundering', type: 'pair-volume', from: 'source', to: 'target', field: 'amount', window: '1h', threshold: 8000, ...rule }],
    ...options,
  };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const ctx = { ...recordingProcessContext('fraud'), log };
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  return {
    ctx,
    lines,
    /** Sends [source, target, amount, ms after T0] transfers; returns the anomaly bodies of this batch. */
    send(...transfers: [string, string, unknown, number][]) {
      const before = ctx.emitted.length;
      processor.process(transfers.map(([source, target, amount, dt]) => Event.fromData({ city: 'NYC', source, target, amount, ts: T0 + dt })), ctx);
      return ctx.emitted.slice(before).flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>));
    },
  };
}

describe('pair-volume rule', () => {
  test('fires when the pair total exceeds the threshold and logs the seed line', async () => {
    const f = await fraudWith();
    const eight = Array.from({ length: 8 }, (_, i) => ['516', '482', 1000, i * 60_000] as [string, string, number, number]);
    expect(f.send(...eight)).toEqual([]); // exactly 8000: not more than the threshold
    const [anomaly] = f.send(['516', '482', 644, 30 * 60_000]);
    expect(anomaly).toMatchObject({
      ruleId: 'laundering',
      ruleType: 'pair-volume',
      keys: { source: '516', target: '482' },
      value: 8644,
      threshold: 8000,
      windowStart: new Date(T0 + 30 * 60_000 - HOUR).toISOString(),
      windowEnd: new Date(T0 + 30 * 60_000).toISOString(),
      transactionIds: [],
      message: 'laundering: 8644 moved from source=516 to target=482 within 1h (more than 8000)',
    });
    expect(f.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['POTENTIAL MONEY LAUNDERING: 516 -> 482 totalling 8644 now']);
    expect(f.lines[0]).toMatchObject({ ruleId: 'laundering', source: '516', target: '482', total: 8644 });
  });

  test('sums exactly: thirty 0.1 amounts make 3, not 3.0000000000000013', async () => {
    const f = await fraudWith({ threshold: 3 });
    const tenths = Array.from({ length: 30 }, (_, i) => ['a', 'b', 0.1, i] as [string, string, number, number]);
    expect(f.send(...tenths)).toEqual([]);
    expect(f.send(['a', 'b', 0.1, 31])[0]).toMatchObject({ value: 3.1 });
    expect(f.lines.at(-1)!.msg).toBe('POTENTIAL MONEY LAUNDERING: a -> b totalling 3.1 now');
  });

  test('amounts as decimal strings count; other values skip the rule', async () => {
    const f = await fraudWith({ threshold: 100 });
    expect(f.send(['a', 'b', '60.25', 0], ['a', 'b', 'lots', 1], ['a', 'b', null, 2], ['a', 'b', 39.75, 3])).toEqual([]);
    expect(f.ctx.stats.get('rule_skips_total')).toBe(2);
    expect(f.send(['a', 'b', '0.01', 4])[0]).toMatchObject({ value: 100.01 });
  });

  test('pairs are directed and independent', async () => {
    const f = await fraudWith();
    expect(f.send(['1', '2', 5000, 0], ['2', '1', 5000, 1], ['1', '3', 5000, 2])).toEqual([]);
    expect(f.send(['1', '2', 3001, 3]).map((a) => a.keys)).toEqual([{ source: '1', target: '2' }]);
  });

  test('window edges: a transfer exactly one hour older has left the window', async () => {
    const f = await fraudWith();
    expect(f.send(['1', '2', 5000, 0], ['1', '2', 5000, HOUR])).toEqual([]);
    expect(f.send(['3', '4', 5000, 0], ['3', '4', 5000, HOUR - 1])).toHaveLength(1);
  });

  test('one fire per pair and window, the total restarting after it; again in a later window', async () => {
    const f = await fraudWith();
    const fires: unknown[] = [];
    // 1000 every 5 minutes for three hours: 9 transfers pass 8000 at 40 minutes.
    for (let m = 0; m <= 180; m += 5) fires.push(...f.send(['1', '2', 1000, m * 60_000]).map((a) => [a.windowEnd, a.value]));
    const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
    // After the fire at 40 min the pair is quiet until its window ends after 100 min; the window (45, 105] then
    // holds the 12 transfers since the fire.
    expect(fires).toEqual([[at(40), 9000], [at(105), 12000], [at(170), 12000]]);
  });

  test('pairs expire an hour after their last transfer, and maxKeys evicts the least recently seen, counted', async () => {
    const f = await fraudWith({}, { maxKeys: 2 });
    f.send(['1', '2', 7000, 0], ['3', '4', 7000, 1]);
    f.send(['5', '6', 1, 2]); // evicts 1 -> 2, forgetting its 7000
    expect(f.ctx.stats.get('keys_evicted_total')).toBe(1);
    expect(f.send(['3', '4', 1001, 3])).toHaveLength(1); // 3 -> 4 kept its total
    expect(f.send(['1', '2', 7000, 4])).toEqual([]); // evicts 5 -> 6
    expect(f.ctx.stats.get('keys_evicted_total')).toBe(2);
    expect(f.ctx.stats.get('keys_tracked')).toBe(2);
    f.send(['7', '8', 1, 2 * HOUR]);
    expect(f.ctx.stats.get('keys_tracked')).toBe(1);
  });
});

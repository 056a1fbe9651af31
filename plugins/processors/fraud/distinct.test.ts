import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const validate = compile(componentSchema('processor', fraud.schema));

async function fraudWith(options: object = {}) {
  const config = {
    type: 'fraud',
    emitTo: ['anomalies'],
    timeField: 'transactionTime',
    rules: [{ id: 'impossible-travel', type: 'distinct', key: 'userId', field: 'location', window: '10m', threshold: 2 }],
    ...options,
  };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  let n = 0;
  return {
    ctx,
    /** Sends [user, location, ms after T0] payments (times in epoch seconds, as the generator writes them). */
    send(...payments: [string, unknown, number][]) {
      const before = ctx.emitted.length;
      const events = payments.map(([userId, location, dt]) => Event.fromData({ transactionId: `t${++n}`, userId, location, transactionTime: (T0 + dt) / 1000 }));
      processor.process(events, ctx);
      return ctx.emitted.slice(before).flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>));
    },
  };
}

describe('distinct rule', () => {
  test('fires at threshold + 1 distinct values for one key, not at threshold however many events', async () => {
    const f = await fraudWith();
    expect(f.send(['u1', 'paris', 0], ['u1', 'rome', MIN], ['u1', 'paris', 2 * MIN], ['u1', 'rome', 3 * MIN], ['u2', 'oslo', 3 * MIN])).toEqual([]);
    const [anomaly, ...rest] = f.send(['u1', 'oslo', 4 * MIN]);
    expect(rest).toEqual([]);
    expect(anomaly).toMatchObject({
      ruleId: 'impossible-travel',
      ruleType: 'distinct',
      keys: { userId: 'u1' },
      value: 3,
      threshold: 2,
      windowStart: new Date(T0 - 6 * MIN).toISOString(),
      windowEnd: new Date(T0 + 4 * MIN).toISOString(),
      transactionIds: ['t1', 't2', 't3', 't4', 't6'],
      message: 'impossible-travel: 3 distinct location values for userId=u1 within 10m (more than 2)',
    });
  });

  test('window edges: a value seen exactly one window earlier no longer counts', async () => {
    const f = await fraudWith();
    expect(f.send(['u1', 'paris', 0], ['u1', 'rome', MIN], ['u1', 'oslo', 10 * MIN])).toEqual([]);
    // paris is seen again inside the window: three distinct values.
    expect(f.send(['u1', 'paris', 10 * MIN + 1])).toHaveLength(1);
  });

  test('values compare as text, and a missing value skips the event', async () => {
    const f = await fraudWith();
    expect(f.send(['u1', 7, 0], ['u1', '7', 1], ['u1', 'x', 2], ['u1', null, 3], ['u1', { city: 'a' }, 4])).toEqual([]);
    expect(f.ctx.stats.get('rule_skips_total')).toBe(2);
  });

  test('at most once per key and window; fires again in a later window', async () => {
    const f = await fraudWith();
    const ends: unknown[] = [];
    // A new location every minute for half an hour.
    for (let m = 0; m <= 30; m++) ends.push(...f.send(['u1', `loc${m}`, m * MIN]).map((a) => a.windowEnd));
    expect(ends).toEqual([2, 13, 24].map((m) => new Date(T0 + m * MIN).toISOString()));
  });

  test('maxKeys evicts the least recently seen user, counted', async () => {
    const f = await fraudWith({ maxKeys: 1 });
    f.send(['u1', 'a', 0], ['u1', 'b', 1], ['u2', 'a', 2]);
    expect(f.send(['u1', 'c', 3])).toEqual([]); // u1's two locations were forgotten
    expect(f.ctx.stats.get('keys_evicted_total')).toBe(2);
    expect(f.ctx.stats.get('keys_tracked')).toBe(1);
  });
});

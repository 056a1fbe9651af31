import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const T0 = Date.UTC(2024, 0, 1);
const validate = compile(componentSchema('processor', fraud.schema));

async function fraudWith(rule: object, options: object = {}) {
  const config = { type: 'fraud', emitTo: ['anomalies'], timeField: 'ts', rules: [{ id: 'velocity', type: 'frequency', key: 'userId', window: '60s', threshold: 3, ...rule }], ...options };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  let n = 0;
  return {
    ctx,
    /** Sends one event per [user, ms after T0]; returns the anomaly bodies this batch emitted. */
    send(...events: [string | undefined, number][]) {
      const before = ctx.emitted.length;
      processor.process(events.map(([userId, dt]) => Event.fromData({ transactionId: `t${++n}`, userId, ts: T0 + dt })), ctx);
      return ctx.emitted.slice(before).flatMap((e) => e.events.map((a) => a.data));
    },
  };
}

describe('frequency rule', () => {
  test('fires on the event that makes threshold + 1 within the window, not at threshold', async () => {
    const f = await fraudWith({});
    expect(f.send(['u1', 0], ['u1', 1000], ['u1', 2000], ['u2', 2500])).toEqual([]);
    const [anomaly, ...rest] = f.send(['u1', 3000]);
    expect(rest).toEqual([]);
    expect(anomaly).toEqual({
      ruleId: 'velocity',
      ruleType: 'frequency',
      keys: { userId: 'u1' },
      value: 4,
      threshold: 3,
      windowStart: new Date(T0 + 3000 - 60_000).toISOString(),
      windowEnd: new Date(T0 + 3000).toISOString(),
      transactionIds: ['t1', 't2', 't3', 't5'],
      detectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      message: 'velocity: 4 events for userId=u1 within 60s (more than 3)',
    });
    expect(f.ctx.emitted[0]!.channels).toEqual(['anomalies']);
    expect(f.ctx.stats.get('anomalies_velocity_total')).toBe(1);
    expect(f.ctx.stats.get('anomalies_total')).toBe(1);
  });

  test('window edges: an event exactly one window older is out, one millisecond less is in', async () => {
    const out = await fraudWith({});
    expect(out.send(['u1', 0], ['u1', 1], ['u1', 2], ['u1', 60_000])).toEqual([]);
    const edge = await fraudWith({});
    expect(edge.send(['u1', 0], ['u1', 1], ['u1', 2], ['u1', 59_999])).toHaveLength(1);
  });

  test('fires at most once per key and window, then again once a later window crosses', async () => {
    const f = await fraudWith({});
    const ends: string[] = [];
    // One event per second for two minutes: the burst crosses at 3 s, then again one window after the fire.
    for (let s = 0; s <= 120; s++) for (const a of f.send(['u1', s * 1000])) ends.push((a as { windowEnd: string }).windowEnd);
    expect(ends).toEqual([new Date(T0 + 3000).toISOString(), new Date(T0 + 64_000).toISOString()]);
    // The second fire counts only events after the first: the window (4 s, 64 s] holds 60 of them.
    const f2 = await fraudWith({});
    let second: unknown;
    for (let s = 0; s <= 64; s++) second = f2.send(['u1', s * 1000])[0] ?? second;
    expect(second).toMatchObject({ value: 60, windowStart: new Date(T0 + 4000).toISOString() });
  });

  test('keys are independent', async () => {
    const f = await fraudWith({});
    expect(f.send(['u1', 0], ['u2', 1], ['u1', 2], ['u2', 3], ['u1', 4], ['u2', 5])).toEqual([]);
    expect(f.send(['u2', 6]).map((a) => (a as { keys: unknown }).keys)).toEqual([{ userId: 'u2' }]);
  });

  test('transactionIds keep the newest maxIdsPerAnomaly', async () => {
    const f = await fraudWith({}, { maxIdsPerAnomaly: 2 });
    expect(f.send(['u1', 0], ['u1', 1], ['u1', 2], ['u1', 3])[0]).toMatchObject({ transactionIds: ['t3', 't4'] });
  });

  test('state expires with the window and maxKeys bounds it, evictions counted', async () => {
    const f = await fraudWith({}, { maxKeys: 2 });
    f.send(['u1', 0], ['u1', 1], ['u1', 2]);
    f.send(['u2', 3], ['u3', 4]); // u1 is the least recently seen: evicted, its three events forgotten
    expect(f.ctx.stats.get('keys_evicted_total')).toBe(1);
    expect(f.ctx.stats.get('keys_tracked')).toBe(2);
    expect(f.send(['u1', 5])).toEqual([]);
    // Two windows later every key has expired.
    f.send(['u9', 130_000]);
    expect(f.ctx.stats.get('keys_tracked')).toBe(1);
  });

  test('an event older than its key window is late and ignored; a missing key is skipped and counted', async () => {
    const f = await fraudWith({});
    f.send(['u1', 100_000], ['u1', 100_001], ['u1', 100_002]);
    expect(f.send(['u1', 30_000])).toEqual([]);
    expect(f.ctx.stats.get('late_events_total')).toBe(1);
    // Out of order but inside the window: it counts.
    expect(f.send(['u1', 50_000])).toHaveLength(1);
    f.send([undefined, 100_003]);
    expect(f.ctx.stats.get('rule_skips_total')).toBe(1);
  });

  test('a per-rule timeField overrides the processor one', async () => {
    const f = await fraudWith({ timeField: 'other' });
    expect(f.send(['u1', 0], ['u1', 1], ['u1', 2], ['u1', 3])).toEqual([]);
    expect(f.ctx.stats.get('events_without_time_total')).toBe(4);
  });
});

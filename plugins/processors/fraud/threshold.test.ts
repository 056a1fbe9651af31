import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const validate = compile(componentSchema('processor', fraud.schema));

async function fired(bounds: object, amounts: unknown[]) {
  const config = { type: 'fraud', emitTo: ['anomalies'], rules: [{ id: 'big-ticket', type: 'threshold', field: 'payment.amount', ...bounds }] };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  processor.process(amounts.map((amount, i) => Event.fromData({ transactionId: `t${i}`, payment: { amount } })), ctx);
  return { anomalies: ctx.emitted.flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>)), ctx };
}

describe('threshold rule', () => {
  test('gt: the bound itself does not fire, just above it does, every matching event fires', async () => {
    const { anomalies } = await fired({ gt: 10000 }, [10000, 10000.01, 9999, 20000]);
    expect(anomalies.map((a) => a.value)).toEqual([10000.01, 20000]);
    expect(anomalies[0]).toEqual({
      ruleId: 'big-ticket',
      ruleType: 'threshold',
      keys: {},
      value: 10000.01,
      threshold: 10000,
      bounds: { gt: 10000 },
      transactionIds: ['t1'],
      detectedAt: expect.any(String),
      message: 'big-ticket: payment.amount 10000.01 > 10000',
    });
  });

  test('gte, lt and lte include or exclude their bound', async () => {
    expect((await fired({ gte: 10 }, [9.99, 10, 11])).anomalies.map((a) => a.value)).toEqual([10, 11]);
    expect((await fired({ lt: 0 }, [-1, 0, 1])).anomalies.map((a) => a.value)).toEqual([-1]);
    expect((await fired({ lte: 0 }, [-1, 0, 1])).anomalies.map((a) => a.value)).toEqual([-1, 0]);
  });

  test('several bounds must all hold; the anomaly lists them', async () => {
    const { anomalies } = await fired({ gte: 100, lt: 200 }, [99, 100, 199.99, 200]);
    expect(anomalies.map((a) => a.value)).toEqual([100, 199.99]);
    expect(anomalies[0]).toMatchObject({ threshold: null, bounds: { gte: 100, lt: 200 }, message: 'big-ticket: payment.amount 100 >= 100 and < 200' });
  });

  test('decimal strings are numbers; anything else skips the rule, counted', async () => {
    const { anomalies, ctx } = await fired({ gt: 5 }, ['6.5', 'six', null, true, undefined, [7]]);
    expect(anomalies.map((a) => a.value)).toEqual([6.5]);
    expect(ctx.stats.get('rule_skips_total')).toBe(5);
  });

  test('a rule without any bound is a config error', () => {
    const rule = { id: 'x', type: 'threshold', field: 'amount' };
    expect(fraud.lint!({ emitTo: ['a'], rules: [rule] } as unknown as FraudConfig)).toEqual([{ key: 'rules.0', message: 'set at least one of gt, gte, lt or lte (all that are set must hold).' }]);
  });
});

import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import { AgentError, Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const validate = compile(componentSchema('processor', fraud.schema));
const configOf = (when: string) => ({ type: 'fraud', emitTo: ['anomalies'], rules: [{ id: 'intl-large', type: 'expression', when }] });

async function fired(when: string, bodies: object[]) {
  const config = configOf(when);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  processor.process(bodies.map((b) => Event.fromData(b)), ctx);
  return { anomalies: ctx.emitted.flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>)), ctx };
}

describe('expression rule', () => {
  test('fires for every event the expression is true for', async () => {
    const { anomalies } = await fired('isInternational && amount > 3000', [
      { transactionId: 'a', isInternational: true, amount: 3000 },
      { transactionId: 'b', isInternational: true, amount: 3000.01 },
      { transactionId: 'c', isInternational: false, amount: 9000 },
      { transactionId: 'd', isInternational: true, amount: 4000 },
    ]);
    expect(anomalies.map((a) => a.transactionIds)).toEqual([['b'], ['d']]);
    expect(anomalies[0]).toEqual({
      ruleId: 'intl-large',
      ruleType: 'expression',
      keys: {},
      value: null,
      threshold: null,
      transactionIds: ['b'],
      detectedAt: expect.any(String),
      message: 'intl-large: isInternational && amount > 3000',
    });
  });

  test('an event it cannot be evaluated on does not fire and is counted', async () => {
    const { anomalies, ctx } = await fired("payer.country != 'US' && amount > 10", [
      { amount: 50 },
      { payer: { country: 'DE' }, amount: '50' },
      { payer: { country: 'DE' }, amount: 50 },
    ]);
    expect(anomalies).toHaveLength(1);
    expect(ctx.stats.get('expression_errors_total')).toBe(2);
  });

  test('a syntax error is reported by lint at the rule key, with the column and what was expected', () => {
    const problems = fraud.lint!({ ...configOf('amount > 3000 &&& x'), annotate: false } as unknown as FraudConfig);
    expect(problems).toEqual([
      {
        key: 'rules.0.when',
        message: `syntax error at column 17 of "amount > 3000 &&& x": '&' is not an operator: use && for and.`,
      },
    ]);
    expect(fraud.lint!({ ...configOf("constructor.constructor('return 1')()"), annotate: false } as unknown as FraudConfig)[0]!.message).toMatch(
      /^syntax error at column 24 of .*: expected an operator/,
    );
  });

  test('an expression is at most 2000 characters long', () => {
    expect(validate(configOf(`a == ${'1'.repeat(1995)}`))).toBe(true);
    expect(validate(configOf(`a == ${'1'.repeat(1996)}`))).toBe(false);
  });

  test('create refuses a bad expression with a config error', () => {
    expect(() => fraud.create({ ...configOf('amount >'), annotate: false } as unknown as FraudConfig, recordingProcessContext('fraud'))).toThrow(AgentError);
    expect(() => fraud.create({ ...configOf('amount >'), annotate: false } as unknown as FraudConfig, recordingProcessContext('fraud'))).toThrow(
      /rules\.0\.when: syntax error at column 9 of "amount >": expected a value/,
    );
  });
});

import { expect, test } from 'vitest';
import { MetricPlan } from './accumulators.ts';
import { resultEvent } from './output.ts';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);

test('a result carries ISO bounds, group values by configured name, then metrics; partial only when partial', () => {
  const plan = new MetricPlan({ total: { op: 'sum', field: 'amount' }, n: { op: 'count' } }, 2);
  const acc = plan.create(['m"1', null]);
  plan.add(acc, [0.1]);
  plan.add(acc, [0.2]);
  const full = resultEvent({ start: T0, end: T0 + 60_000, acc, partial: false }, ['merchantId', 'payer.country'], plan);
  expect(full.text).toBe('{"windowStart":"2024-01-01T10:00:00.000Z","windowEnd":"2024-01-01T10:01:00.000Z","merchantId":"m\\"1","payer.country":null,"total":0.3,"n":2}');
  expect(full.data).toEqual(JSON.parse(full.text));
  const partial = resultEvent({ start: T0, end: T0 + 60_000, acc, partial: true }, ['merchantId', 'payer.country'], plan);
  expect(partial.data.partial).toBe(true);
  expect(partial.text.endsWith(',"n":2,"partial":true}')).toBe(true);
});

test('a total beyond what a double holds is exact in the text', () => {
  const plan = new MetricPlan({ total: { op: 'sum', field: 'amount' } }, 2);
  const acc = plan.create(['m']);
  for (let i = 0; i < 3; i++) plan.add(acc, [60000000000000.01]);
  const e = resultEvent({ start: T0, end: T0 + 60_000, acc, partial: false }, ['m'], plan);
  expect(e.text).toContain('"total":180000000000000.03}');
  expect(e.data.total).toBe(180000000000000.03);
});

import { describe, expect, test } from 'vitest';
import { MetricPlan } from './accumulators.ts';

const plan = () =>
  new MetricPlan(
    {
      total: { op: 'sum', field: 'amount' },
      avg: { op: 'avg', field: 'amount' },
      biggest: { op: 'max', field: 'amount' },
      smallestFee: { op: 'min', field: 'fee.value' },
      n: { op: 'count' },
    },
    2,
  );

describe('MetricPlan', () => {
  test('metrics on one field share a slot; paths are split once', () => {
    const p = plan();
    expect(p.fields).toEqual(['amount', 'fee.value']);
    expect(p.paths).toEqual([['amount'], ['fee', 'value']]);
  });

  test('results are exact to the scale, in metric order, with avg rounded half to even', () => {
    const p = plan();
    const acc = p.create(['m1']);
    p.add(acc, [0.1, 2.5]);
    p.add(acc, [0.2, 1.25]);
    p.add(acc, [0.02, 3]);
    // sum 0.32 (not 0.32000000000000006), avg 0.32 / 3 = 0.10666… → 0.11
    expect(p.results(acc)).toEqual([['total', '0.32'], ['avg', '0.11'], ['biggest', '0.2'], ['smallestFee', '1.25'], ['n', '3']]);
    const tie = p.create(['m2']);
    p.add(tie, [0.01, 0]);
    p.add(tie, [0.04, 0]);
    expect(p.results(tie)[1]).toEqual(['avg', '0.02']); // 0.025 → 0.02 (even)
  });

  test('merge equals adding every event to one accumulator', () => {
    const p = plan();
    const a = p.create(['k']);
    const b = p.create(['k']);
    const all = p.create(['k']);
    const rows = [[10.5, 1], [-3.25, 0.5], [99.99, 7], [0.01, -2]] as const;
    rows.forEach((r, i) => (p.add(i % 2 ? a : b, r), p.add(all, r)));
    const merged = p.clone(a);
    p.merge(merged, b);
    expect(p.results(merged)).toEqual(p.results(all));
    expect(p.results(a)).not.toEqual(p.results(all)); // clone did not alias a
  });

  test('JSON round trip keeps BigInt sums and unused slots', () => {
    const p = new MetricPlan({ total: { op: 'sum', field: 'amount' }, n: { op: 'count' } }, 2);
    const acc = p.create(['k', 3]);
    p.add(acc, [60000000000000.01]);
    p.add(acc, [60000000000000.01]); // 12000000000000002 cents: beyond 2^53
    expect(typeof acc.sums[0]).toBe('bigint');
    const back = p.fromJson(JSON.parse(JSON.stringify(p.toJson(acc))));
    expect(p.results(back)).toEqual([['total', '120000000000000.02'], ['n', '2']]);
    expect(back.values).toEqual(['k', 3]);
  });

  test('fromJson refuses accumulators that do not fit the plan', () => {
    const p = plan();
    expect(() => p.fromJson({})).toThrow(/5-element/);
    expect(() => p.fromJson([['k'], 1, ['1'], [1], [1]])).toThrow(/does not match/);
    expect(() => p.fromJson([['k'], 0, ['1', '2'], [1, 2], [1, 2]])).toThrow(/does not match/);
    expect(() => p.fromJson([['k'], 1, ['1.5', '2'], [1, 2], [1, 2]])).toThrow(/not an integer/);
  });
});

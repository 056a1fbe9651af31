import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.ts';

describe('Histogram', () => {
  it('counts each value in the first bucket whose bound is at least the value, cumulatively per le', () => {
    const h = new Histogram([1, 5, 10]);
    for (const v of [0.5, 1, 2, 5, 7, 10, 11, 100]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 2]);
    expect(h.cumulative()).toEqual([2, 4, 6]);
    expect(h.count).toBe(8); // the +Inf bucket: values above the last bound count only here
    expect(h.sum).toBe(0.5 + 1 + 2 + 5 + 7 + 10 + 11 + 100);
  });

  it('has zero counts and a zero quantile when empty', () => {
    const h = new Histogram([1, 2]);
    expect(h.cumulative()).toEqual([0, 0]);
    expect(h.quantile(0.5)).toBe(0);
  });

  it('estimates a quantile as the upper bound of the bucket holding it', () => {
    const h = new Histogram([0.01, 0.1, 1, 10]);
    for (let i = 0; i < 90; i++) h.observe(0.005);
    for (let i = 0; i < 9; i++) h.observe(0.5);
    h.observe(5);
    expect(h.quantile(0.5)).toBe(0.01);
    expect(h.quantile(0.9)).toBe(0.01);
    expect(h.quantile(0.95)).toBe(1);
    expect(h.quantile(0.99)).toBe(1);
    expect(h.quantile(1)).toBe(10);
  });

  it('reports Infinity for a quantile that falls above the last bucket', () => {
    const h = new Histogram([1]);
    h.observe(0.5);
    h.observe(50);
    expect(h.quantile(0.5)).toBe(1);
    expect(h.quantile(0.99)).toBe(Infinity);
  });
});

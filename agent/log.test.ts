import { describe, expect, it } from 'vitest';
import { RateLimiter } from './log.ts';

describe('RateLimiter', () => {
  it('allows one line per interval and reports how many were suppressed in between', () => {
    const r = new RateLimiter(1000);
    expect(r.allow('k', 0)).toBe(0);
    expect(r.allow('k', 1)).toBe(-1);
    expect(r.allow('k', 500)).toBe(-1);
    expect(r.allow('k', 999)).toBe(-1);
    expect(r.allow('k', 1000)).toBe(3);
    expect(r.allow('k', 1001)).toBe(-1);
    expect(r.allow('k', 2500)).toBe(1);
    expect(r.allow('k', 5000)).toBe(0);
  });

  it('limits each key independently', () => {
    const r = new RateLimiter(1000);
    expect(r.allow('a', 0)).toBe(0);
    expect(r.allow('b', 10)).toBe(0);
    expect(r.allow('a', 20)).toBe(-1);
    expect(r.allow('b', 30)).toBe(-1);
    expect(r.allow('b', 40)).toBe(-1);
    expect(r.allow('a', 1000)).toBe(1);
    expect(r.allow('b', 1010)).toBe(2);
  });

  it('measures the interval from the last line logged, not from the last suppressed call', () => {
    const r = new RateLimiter(100);
    expect(r.allow('k', 0)).toBe(0);
    for (let t = 10; t < 100; t += 10) expect(r.allow('k', t)).toBe(-1);
    expect(r.allow('k', 100)).toBe(9);
  });

  it('defaults to now and a 10 s interval', () => {
    const r = new RateLimiter();
    expect(r.allow('k')).toBe(0);
    expect(r.allow('k')).toBe(-1);
  });
});

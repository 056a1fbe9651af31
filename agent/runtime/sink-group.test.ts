/**
 * Sink group policies as pure logic, on an explicit clock: failover ranking, the penalty box and its recovery
 * probe, round robin and random orders, and load_balance backoff.
 */
import { describe, expect, it } from 'vitest';
import type { ResolvedSinkGroup } from '../config/validate.ts';
import { FailoverPolicy, LoadBalancePolicy, PenaltyBox, createSinkPolicy } from './sink-group.ts';

const all = () => true;
const group = (over: Partial<ResolvedSinkGroup>): ResolvedSinkGroup => ({ name: 'g', sinks: ['k1', 'k2', 'k3'], type: 'failover', priority: {}, selector: 'round_robin', backoff: false, maxPenaltyMs: 30_000, ...over });

describe('failover policy', () => {
  it('ranks by priority, higher first, then the members without one in list order', () => {
    const p = new FailoverPolicy(['a', 'b', 'c', 'd'], { c: 5, b: 10 }, new PenaltyBox(4, 30_000));
    expect(p.rank).toEqual([1, 2, 0, 3]);
    expect(p.order(0, all)).toEqual([1, 2, 0, 3]);
    expect(p.active(0, all)).toEqual([1]);
    expect(p.active(0, (i) => i !== 1)).toEqual([2]); // a member that has not started is passed over
  });

  it('rests a failed member with a doubling penalty capped at maxPenalty, probes it first once the rest is over, and restores it on success', () => {
    const penalized: number[] = [];
    const p = new FailoverPolicy(['k1', 'k2'], { k1: 10, k2: 5 }, new PenaltyBox(2, 3000, (i) => penalized.push(i)));
    p.failed(0, 0);
    expect(p.order(0, all)).toEqual([1]);
    expect(p.active(0, all)).toEqual([1]);
    expect(p.resting(500)).toEqual([0]);
    expect(p.nextRetryAt(0)).toBe(1000);
    expect(p.order(1000, all)).toEqual([0, 1]); // the recovery probe: the rested member gets the next batch first
    expect(p.active(1000, all)).toEqual([1]); // but is not active until it writes
    p.failed(0, 1000);
    expect(p.nextRetryAt(1000)).toBe(3000);
    p.failed(0, 3000);
    expect(p.nextRetryAt(3000)).toBe(6000); // 4 s would exceed maxPenalty
    p.succeeded(0);
    expect(p.order(3001, all)).toEqual([0, 1]);
    expect(p.active(3001, all)).toEqual([0]);
    expect(p.resting(3001)).toEqual([]);
    p.failed(0, 10_000);
    expect(p.nextRetryAt(10_000)).toBe(11_000); // a success resets the penalty
    expect(penalized).toEqual([0, 0, 0, 0]);
  });

  it('has nothing to offer while every member rests', () => {
    const p = new FailoverPolicy(['k1', 'k2'], {}, new PenaltyBox(2, 30_000));
    p.failed(0, 0);
    p.failed(1, 200);
    expect(p.available(500, all)).toBe(false);
    expect(p.order(500, all)).toEqual([]);
    expect(p.nextRetryAt(500)).toBe(1000);
    expect(p.available(1000, all)).toBe(true);
    expect(p.order(1200, all)).toEqual([0, 1]);
  });
});

describe('load_balance policy', () => {
  it('round robin starts each batch at the next member and spreads batches evenly', () => {
    const p = new LoadBalancePolicy(3);
    expect([p.order(0, all), p.order(0, all), p.order(0, all), p.order(0, all)]).toEqual([[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
    const firsts = [0, 0, 0];
    for (let b = 0; b < 300; b++) firsts[p.order(0, all)[0]!]!++;
    expect(firsts).toEqual([100, 100, 100]);
  });

  it('random offers every member in some order and each one first sometimes', () => {
    let seed = 7;
    const rng = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const p = new LoadBalancePolicy(3, 'random', undefined, rng);
    const firsts = [0, 0, 0];
    for (let b = 0; b < 300; b++) {
      const order = p.order(0, all);
      expect([...order].sort()).toEqual([0, 1, 2]);
      firsts[order[0]!]!++;
    }
    for (const n of firsts) expect(n).toBeGreaterThan(50);
  });

  it('with backoff skips a failing member until its rest is over; without, keeps offering it', () => {
    const backoff = createSinkPolicy(group({ type: 'load_balance', backoff: true, maxPenaltyMs: 5000 }));
    backoff.failed(1, 0);
    expect(backoff.order(10, all)).not.toContain(1);
    expect(backoff.order(10, all)).not.toContain(1);
    expect(backoff.active(10, all)).toEqual([0, 2]);
    expect(backoff.resting(10)).toEqual([1]);
    expect(backoff.order(1000, all)).toContain(1);
    const plain = createSinkPolicy(group({ type: 'load_balance', backoff: false }));
    plain.failed(1, 0);
    expect(plain.order(10, all)).toContain(1);
    expect(plain.resting(10)).toEqual([]);
    expect(plain.nextRetryAt(10)).toBeUndefined();
  });

  it('as a lone sink (a group of one) always offers the sink once it has started', () => {
    const p = new LoadBalancePolicy(1);
    expect(p.available(0, () => false)).toBe(false);
    p.failed(0, 0);
    expect(p.order(0, all)).toEqual([0]);
  });
});

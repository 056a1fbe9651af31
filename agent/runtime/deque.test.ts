import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { EventDeque } from './deque.ts';

let next = 0;
const batch = (n: number) => Array.from({ length: n }, () => Event.fromData({ id: next++ }));
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);

describe('EventDeque', () => {
  it('takes across chunk boundaries in order', () => {
    const q = new EventDeque();
    const a = batch(3);
    const b = batch(2);
    const c = batch(4);
    q.pushBatch(a);
    q.pushBatch(b);
    q.pushBatch(c);
    expect(q.size).toBe(9);
    expect(ids(q.take(4))).toEqual([...ids(a), ids(b)[0]]);
    expect(q.size).toBe(5);
    expect(ids(q.take(4))).toEqual([ids(b)[1], ...ids(c).slice(0, 3)]);
    expect(ids(q.take(10))).toEqual([ids(c)[3]]);
    expect(q.size).toBe(0);
    expect(q.take(10)).toEqual([]);
  });

  it('hands a whole batch over without copying when the take matches it exactly', () => {
    const q = new EventDeque();
    const a = batch(5);
    q.pushBatch(a);
    q.pushBatch(batch(5));
    expect(q.take(5)).toBe(a);
    expect(q.size).toBe(5);
  });

  it('copies when the take covers only part of a batch or more than one', () => {
    const q = new EventDeque();
    const a = batch(5);
    q.pushBatch(a);
    const part = q.take(3);
    expect(part).not.toBe(a);
    expect(ids(part)).toEqual(ids(a).slice(0, 3));
    expect(ids(a)).toHaveLength(5); // the original batch is untouched
    const rest = q.take(2);
    expect(ids(rest)).toEqual(ids(a).slice(3));
  });

  it('puts rolled-back events back at the head, ahead of a partly taken chunk', () => {
    const q = new EventDeque();
    const a = batch(4);
    const b = batch(2);
    q.pushBatch(a);
    q.pushBatch(b);
    const taken = q.take(2);
    q.unshiftBatch(taken);
    expect(q.size).toBe(6);
    expect(ids(q.take(6))).toEqual([...ids(a), ...ids(b)]);
  });

  it('restores the original order when two takes roll back newest first', () => {
    const q = new EventDeque();
    q.pushBatch(batch(4));
    const first = q.take(2);
    const second = q.take(2);
    q.unshiftBatch(second);
    q.unshiftBatch(first);
    expect(ids(q.take(4))).toEqual([...ids(first), ...ids(second)]);
  });

  it('ignores empty pushes and unshifts', () => {
    const q = new EventDeque();
    q.pushBatch([]);
    q.unshiftBatch([]);
    expect(q.size).toBe(0);
    expect(q.take(1)).toEqual([]);
  });

  it('matches a plain array model under any sequence of push, unshift and take', () => {
    type Op = { op: 'push'; n: number } | { op: 'unshift'; n: number } | { op: 'take'; max: number } | { op: 'rollback' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('unshift' as const), n: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ op: fc.constant('take' as const), max: fc.integer({ min: 0, max: 12 }) }),
      fc.constant({ op: 'rollback' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const q = new EventDeque();
        let model: Event[] = [];
        let lastTaken: Event[] = [];
        for (const o of ops) {
          if (o.op === 'push') {
            const b = batch(o.n);
            q.pushBatch(b);
            model = [...model, ...b];
          } else if (o.op === 'unshift') {
            const b = batch(o.n);
            q.unshiftBatch(b);
            model = [...b, ...model];
          } else if (o.op === 'rollback') {
            q.unshiftBatch(lastTaken);
            model = [...lastTaken, ...model];
            lastTaken = [];
          } else {
            const got = q.take(o.max);
            const want = model.slice(0, o.max);
            model = model.slice(want.length);
            expect(ids(got)).toEqual(ids(want));
            lastTaken = got;
          }
          expect(q.size).toBe(model.length);
        }
        expect(ids(q.take(model.length + 1))).toEqual(ids(model));
        expect(q.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

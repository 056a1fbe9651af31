import { describe, expect, test } from 'vitest';
import { KeyWindow, type Measure, type WindowSpec } from './key-window.ts';

const spec = (measure: Measure, windowMs = 1000, maxEntries = 1000): WindowSpec => ({ measure, windowMs, maxEntries, watermark: -Infinity });

describe('KeyWindow', () => {
  test('the window is (latest − window, latest]: an entry exactly one window older leaves it', () => {
    const w = new KeyWindow(spec('count'));
    w.add(0, 1, 'a');
    w.add(999, 1, 'b');
    expect(w.measure).toBe(2);
    w.add(1000, 1, 'c');
    expect(w.measure).toBe(2);
    expect(w.ids(10)).toEqual(['b', 'c']);
    expect(w.oldestTime).toBe(999);
    w.add(5000, 1, 'd');
    expect(w.ids(10)).toEqual(['d']);
  });

  test('keeps the sum up to date as entries enter and leave', () => {
    const w = new KeyWindow(spec('sum', 10_000));
    for (let t = 0; t < 1000; t++) w.add(t * 10, 1, undefined);
    expect(w.measure).toBe(1000);
    w.add(10_005, 3, undefined);
    // The window is now (5, 10_005]: only the entry at 0 left it.
    expect(w.measure).toBe(1000 - 1 + 3);
  });

  test('distinct counts values in the window and forgets those that left it', () => {
    const w = new KeyWindow(spec('distinct'));
    w.add(0, 'paris', '1');
    w.add(10, 'paris', '2');
    w.add(20, 'rome', '3');
    expect(w.measure).toBe(2);
    w.add(1005, 'oslo', '4');
    expect(w.measure).toBe(3);
    w.add(1010, 'oslo', '5');
    expect(w.measure).toBe(2); // both paris entries left
    w.add(1500, 'oslo', '6');
    expect(w.measure).toBe(1);
  });

  test('out-of-order events inside the window are inserted in time order; older ones are late', () => {
    const w = new KeyWindow(spec('count'));
    expect(w.add(500, 1, 'a')).toBe('added');
    expect(w.add(900, 1, 'c')).toBe('added');
    expect(w.add(700, 1, 'b')).toBe('added');
    expect(w.ids(10)).toEqual(['a', 'b', 'c']);
    expect(w.add(-100, 1, 'old')).toBe('late');
    expect(w.add(-99, 1, 'in')).toBe('added');
    expect(w.ids(10)).toEqual(['in', 'a', 'b', 'c']);
    expect(w.maxTime).toBe(900);
  });

  test('at most maxEntries entries: the oldest is dropped and reported', () => {
    const w = new KeyWindow(spec('sum', 1000, 3));
    expect([1, 2, 3].map((t) => w.add(t, 10, String(t)))).toEqual(['added', 'added', 'added']);
    expect(w.add(4, 10, '4')).toBe('overflow');
    expect(w.size).toBe(3);
    expect(w.measure).toBe(30);
    expect(w.ids(2)).toEqual(['3', '4']);
  });

  test('every measure matches a brute-force model on random, partly out-of-order input', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (const measure of ['count', 'sum', 'distinct'] as const) {
      for (const maxEntries of [5, 40, 1000]) {
        const w = new KeyWindow(spec(measure, 100, maxEntries));
        let model: { t: number; v: number | string }[] = [];
        let max = -Infinity;
        let now = 0;
        for (let i = 0; i < 3000; i++) {
          now += rand(4);
          const t = rand(5) === 0 ? now - rand(150) : now; // some events late, some too late
          const v = measure === 'distinct' ? `v${rand(measure === 'distinct' && i > 1500 ? 30 : 6)}` : rand(1000);
          const result = w.add(t, v, String(i));
          if (t <= max - 100) {
            expect(result).toBe('late');
            continue;
          }
          model.push({ t, v });
          model.sort((a, b) => a.t - b.t);
          max = Math.max(max, t);
          model = model.filter((e) => e.t > max - 100);
          if (model.length > maxEntries) model.shift();
          const expected = measure === 'count' ? model.length : measure === 'sum' ? model.reduce((s, e) => s + (e.v as number), 0) : new Set(model.map((e) => e.v)).size;
          expect(w.measure, `${measure} max ${maxEntries} step ${i}`).toBe(expected);
        }
      }
    }
  });

  test('a long run stays compact: entries never exceed the window', () => {
    const w = new KeyWindow(spec('count', 100));
    for (let t = 0; t < 100_000; t++) w.add(t, 1, undefined);
    expect(w.size).toBe(100);
    expect((w as unknown as { times: unknown[] }).times.length).toBeLessThan(1000);
  });
});

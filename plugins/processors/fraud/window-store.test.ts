import { describe, expect, test } from 'vitest';
import type { WindowSpec } from './key-window.ts';
import { WindowStore } from './window-store.ts';

const spec = (windowMs = 1000): WindowSpec => ({ measure: 'count', windowMs, maxEntries: 1000, watermark: -Infinity });
const counter = () => {
  const c = { value: 0, inc: () => void c.value++ };
  return c;
};

describe('WindowStore', () => {
  test('maxKeys evicts the least recently seen key across tables, counted', () => {
    const evicted = counter();
    const store = new WindowStore(3, evicted);
    const a = store.table();
    const b = store.table();
    const s = spec();
    store.touch(a, 'k1', s).add(0, 1, undefined);
    store.touch(a, 'k2', s);
    store.touch(b, 'k3', s);
    store.touch(a, 'k1', s); // k1 is now more recent than k2
    store.touch(a, 'k4', s);
    expect(evicted.value).toBe(1);
    expect(store.size).toBe(3);
    expect(store.touch(a, 'k1', s).measure).toBe(1); // kept its state
    expect(store.touch(a, 'k2', s).measure).toBe(0); // evicted, created anew
    expect(evicted.value).toBe(2);
    // A table with no keys of its own takes the key from the largest table.
    const c = store.table();
    store.touch(c, 'k5', s);
    expect(store.size).toBe(3);
    expect(evicted.value).toBe(3);
  });

  test('keys expire once the watermark passes their window and their mute', () => {
    const store = new WindowStore(100, counter());
    const t = store.table();
    const s = spec(1000);
    store.touch(t, 'old', s).add(0, 1, undefined);
    const muted = store.touch(t, 'muted', s);
    muted.add(500, 1, undefined);
    muted.mutedUntil = 1500;
    store.touch(t, 'new', s).add(1800, 1, undefined);
    expect(store.expire(t, 1000)).toBe(1); // old: 0 ≤ 1000 − 1000
    expect(store.expire(t, 2499)).toBe(0); // muted until 1500 > 2499 − 1000
    expect(store.expire(t, 2500)).toBe(1);
    expect(store.size).toBe(1);
  });

  test('an expired key comes back as a fresh window, whatever the window it reuses held', () => {
    const store = new WindowStore(100, counter());
    const t = store.table();
    const s = spec(1000);
    const w = store.touch(t, 'gone', s);
    w.add(0, 1, 'tx-1');
    w.add(10, 1, 'tx-2');
    w.mutedUntil = 500;
    expect(store.expire(t, 2000)).toBe(1);
    const fresh = store.touch(t, 'new', s);
    expect([fresh.key, fresh.measure, fresh.ids(10), fresh.maxTime, fresh.mutedUntil]).toEqual(['new', 0, [], -Infinity, -Infinity]);
    expect(fresh.add(-5000, 1, 'tx-3')).toBe('added'); // no trace of the old key's window end
    expect(fresh.ids(10)).toEqual(['tx-3']);
    // The expired key itself starts over too.
    expect(store.touch(t, 'gone', s).measure).toBe(0);
    expect(store.size).toBe(2);
  });
});

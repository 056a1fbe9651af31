import { describe, expect, test } from 'vitest';
import { MetricPlan } from './accumulators.ts';
import { type Closed, Windows } from './windows.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const plan = new MetricPlan({ total: { op: 'sum', field: 'amount' }, n: { op: 'count' }, hi: { op: 'max', field: 'amount' } }, 2);

/** Feeds (time, key, amount) rows the way the processor does; returns the late rows' indices. */
function feed(w: Windows, rows: readonly (readonly [number, string, number])[], out: Closed[]): number[] {
  const late: number[] = [];
  rows.forEach(([t, key, amount], i) => {
    const p = w.paneOf(t);
    if (p <= w.latePane) return void late.push(i);
    const groups = w.pane(p);
    let acc = groups.get(key);
    if (!acc) groups.set(key, (acc = plan.create([key]))), w.open++;
    plan.add(acc, [amount]);
    w.observe(t, out);
  });
  return late;
}

/** "start|key" → metric texts, failing on a (window, key) seen twice. */
function byWindow(closed: Closed[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const c of closed) {
    const id = `${new Date(c.start).toISOString()}|${c.acc.values[0]}`;
    if (out.has(id)) throw new Error(`window ${id} emitted twice`);
    expect(c.end - c.start).toBeGreaterThan(0);
    out.set(id, Object.fromEntries(plan.results(c.acc)));
  }
  return out;
}

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('tumbling windows', () => {
  test('align to the epoch, and an event exactly at windowEnd opens the next window', () => {
    const w = new Windows(MIN, MIN, 0, plan);
    const out: Closed[] = [];
    feed(w, [[T0 + 5_000, 'a', 1], [T0 + MIN - 1, 'a', 2], [T0 + MIN, 'a', 4]], out);
    // The event at 10:01:00.000 moved the watermark to the end of [10:00, 10:01), which closed it.
    expect(out.map((c) => [c.start, c.end, c.partial])).toEqual([[T0, T0 + MIN, false]]);
    expect(plan.results(out[0]!.acc)).toEqual([['total', '3'], ['n', '2'], ['hi', '2']]);
    w.closeAll(out);
    expect(out.slice(1).map((c) => [c.start, plan.results(c.acc)[0], c.partial])).toEqual([[T0 + MIN, ['total', '4'], true]]);
  });

  test('an event is late only once its window closed; lateness keeps windows open that long', () => {
    const w = new Windows(MIN, MIN, 5_000, plan);
    const out: Closed[] = [];
    const late = feed(w, [[T0 + 1_000, 'a', 1], [T0 + MIN + 4_000, 'a', 1], [T0 + 59_000, 'a', 1], [T0 + MIN + 5_000, 'a', 1], [T0 + 59_500, 'a', 1]], out);
    expect(late).toEqual([4]);
    expect(out.map((c) => plan.results(c.acc)[1])).toEqual([['n', '2']]);
  });

  test('closeOldest closes the oldest window early (partial), and makes its events late', () => {
    const w = new Windows(MIN, MIN, 5 * MIN, plan);
    const out: Closed[] = [];
    feed(w, [[T0, 'a', 1], [T0 + 10, 'b', 1], [T0 + MIN, 'a', 1], [T0 + MIN + 10, 'b', 1], [T0 + 2 * MIN, 'a', 1]], out);
    expect(out).toHaveLength(0);
    expect(w.open).toBe(5);
    expect(w.closeOldest(out)).toBe(2);
    expect(out.map((c) => [c.start, c.acc.values[0], c.partial])).toEqual([[T0, 'a', true], [T0, 'b', true]]);
    expect(w.open).toBe(3);
    expect(feed(w, [[T0 + 20, 'c', 1], [T0 + MIN + 20, 'c', 1]], out)).toEqual([0]);
    expect(w.open).toBe(4);
  });
});

describe('hopping windows', () => {
  test('each event counts in every window containing it: equal to a brute-force computation on random data', () => {
    const size = 5 * MIN;
    const advance = MIN;
    const lateness = 90_000;
    const rnd = random(42);
    const rows: [number, string, number][] = [];
    for (let i = 0; i < 3000; i++) {
      // Mostly increasing, with jitter backwards within the allowed lateness.
      const t = T0 + Math.floor(i * 1_300 + 17 * MIN - rnd() * lateness);
      rows.push([t, `k${Math.floor(rnd() * 7)}`, Math.round(rnd() * 200_000 - 50_000) / 100]);
    }
    const w = new Windows(size, advance, lateness, plan);
    const out: Closed[] = [];
    expect(feed(w, rows, out)).toEqual([]);
    w.closeAll(out);

    const brute = new Map<string, { cents: number; n: number; hi: number }>();
    for (const [t, key, amount] of rows) {
      for (let start = Math.floor(t / advance) * advance; start > t - size; start -= advance) {
        const id = `${new Date(start).toISOString()}|${key}`;
        const b = brute.get(id) ?? { cents: 0, n: 0, hi: -Infinity };
        b.cents += Math.round(amount * 100);
        b.n++;
        b.hi = Math.max(b.hi, amount);
        brute.set(id, b);
      }
    }
    const got = byWindow(out);
    expect([...got.keys()].sort()).toEqual([...brute.keys()].sort());
    for (const [id, b] of brute) expect(got.get(id), id).toEqual({ total: String(b.cents / 100), n: String(b.n), hi: String(b.hi) });
    // Only the windows still open at the end were partial.
    const lastEnd = Math.max(...out.filter((c) => !c.partial).map((c) => c.end));
    expect(out.filter((c) => c.partial).every((c) => c.end > lastEnd - advance)).toBe(true);
  });

  test('a late event counts in its windows that are still open and is late only when all closed', () => {
    const w = new Windows(3 * MIN, MIN, 0, plan);
    const out: Closed[] = [];
    const late = feed(w, [[T0 + 30_000, 'a', 1], [T0 + 90_000, 'a', 10], [T0 + 45_000, 'a', 100], [T0 - 1_000, 'a', 1000], [T0 - 61_000, 'a', 5000]], out);
    expect(late).toEqual([4]); // 09:58:59 is only in windows ending by 10:01, closed at 10:01:30
    w.closeAll(out);
    const got = byWindow(out);
    expect(got.get('2024-01-01T09:58:00.000Z|a')?.total).toBe('1'); // closed before 10:00:45 and 09:59:59 arrived
    expect(got.get('2024-01-01T09:59:00.000Z|a')?.total).toBe('1111');
    expect(got.get('2024-01-01T10:00:00.000Z|a')?.total).toBe('111');
    expect(got.get('2024-01-01T10:01:00.000Z|a')?.total).toBe('10');
  });

  test('saved and restored state continues exactly like an uninterrupted run', () => {
    const rnd = random(7);
    const rows: [number, string, number][] = [];
    for (let i = 0; i < 2000; i++) rows.push([T0 + i * 700 - Math.floor(rnd() * 20_000), `k${Math.floor(rnd() * 5)}`, Math.floor(rnd() * 10_000) / 100]);
    const single = new Windows(4 * MIN, 2 * MIN, 30_000, plan);
    const all: Closed[] = [];
    feed(single, rows, all);
    single.closeAll(all);

    const a = new Windows(4 * MIN, 2 * MIN, 30_000, plan);
    const split: Closed[] = [];
    feed(a, rows.slice(0, 1234), split);
    const b = new Windows(4 * MIN, 2 * MIN, 30_000, plan);
    b.restore(JSON.parse(JSON.stringify(a.toJson())));
    expect(b.open).toBe(a.open);
    feed(b, rows.slice(1234), split);
    b.closeAll(split);
    expect(byWindow(split)).toEqual(byWindow(all));
  });

  test('restore refuses panes that are closed or malformed', () => {
    const w = new Windows(MIN, MIN, 0, plan);
    expect(() => w.restore({ maxTime: T0, floor: T0, panes: [[T0 / MIN - 1, []]] })).toThrow(/closed/);
    expect(() => new Windows(MIN, MIN, 0, plan).restore({ maxTime: 'x' } as never)).toThrow(/panes/);
    expect(() => new Windows(MIN, MIN, 0, plan).restore({ maxTime: 'x', floor: null, panes: [] } as never)).toThrow(/not a time/);
  });
});

/**
 * Decides which slots of the stream carry planted events. Starts are Bernoulli per slot (drawn as geometric gaps,
 * one draw per instance instead of one per event), from a PRNG stream of its own so the clean fields of every slot
 * stay what they would be without anomalies. An instance reserves concrete slots when it starts: it then knows its
 * last slot (and is not started when that lies beyond count), and two instances that overlap interleave instead of
 * delaying each other unboundedly. Everything that moves is in `save()`, so an unacknowledged batch rewinds exactly,
 * even with an instance half emitted.
 */
import { PATTERNS, type Resolved } from './anomalies.ts';
import { type PrngState, Sfc32 } from './prng.ts';
import type { Patch, Shape } from './shapes.ts';

/** One planted event, reserved for one slot. Never mutated, so saved queues can share them. */
export interface Planted {
  readonly slot: number;
  /** Index into PATTERNS. */
  readonly pattern: number;
  readonly group: string;
  readonly patch: Patch;
}

export interface PlanterState {
  readonly rng: PrngState;
  readonly next: readonly number[];
  readonly groups: readonly number[];
  readonly fresh: number;
  readonly pending: readonly Planted[];
  readonly planted: readonly number[];
  readonly skipped: number;
}

/** Reserved planted events at most; an instance that would exceed it is skipped (and counted). */
export const MAX_PENDING = 10_000;

const BURST = 0;
const LARGE = 1;
const LAUNDERING = 2;
const HOP = 3;

export class Planter {
  private readonly rng: Sfc32;
  private readonly rates: readonly number[];
  /** Slot of the next start, per pattern. */
  private next: number[];
  private groups = [0, 0, 0, 0];
  /** Fresh users and accounts handed out so far. */
  private fresh = 0;
  /** Reserved events, sorted by slot, at most one per slot. */
  private pending: Planted[] = [];
  /** Planted events taken so far, per pattern. */
  planted = [0, 0, 0, 0];
  /** Instances not started because MAX_PENDING events were already reserved. */
  skipped = 0;
  /** The first slot at which `take` has anything to do. */
  nextSlot = Number.POSITIVE_INFINITY;

  private readonly shape: Shape;
  private readonly a: Resolved;
  /** The stream's length (count), or Infinity. */
  private readonly end: number;

  constructor(seed: number, shape: Shape, anomalies: Resolved, end: number) {
    this.shape = shape;
    this.a = anomalies;
    this.end = end;
    this.rng = new Sfc32(seed, 1);
    const a = anomalies;
    this.rates = [a.bursts?.rate ?? 0, a.largeAmounts?.rate ?? 0, a.laundering?.rate ?? 0, a.locationHops?.rate ?? 0];
    this.next = this.rates.map((r) => (r > 0 ? this.gap(r) : Number.POSITIVE_INFINITY));
    this.updateNextSlot();
  }

  /** The planted event of slot n, or undefined when n stays clean. Call for every n ≥ nextSlot, in order. */
  take(n: number): Planted | undefined {
    for (let p = 0; p < 4; p++) {
      if (this.next[p]! <= n) {
        this.start(p, n);
        this.next[p] = n + 1 + this.gap(this.rates[p]!);
      }
    }
    let out: Planted | undefined;
    if (this.pending.length > 0 && this.pending[0]!.slot === n) {
      out = this.pending.shift()!;
      this.planted[out.pattern]!++;
    }
    this.updateNextSlot();
    return out;
  }

  save(): PlanterState {
    const { fresh, skipped } = this;
    return { rng: this.rng.save(), next: [...this.next], groups: [...this.groups], fresh, pending: [...this.pending], planted: [...this.planted], skipped };
  }

  restore(s: PlanterState): void {
    this.rng.restore(s.rng);
    this.next = [...s.next];
    this.groups = [...s.groups];
    this.fresh = s.fresh;
    this.pending = [...s.pending];
    this.planted = [...s.planted];
    this.skipped = s.skipped;
    this.updateNextSlot();
  }

  /** Clean slots before the next start: geometric, as if each slot had drawn its own Bernoulli(rate). */
  private gap(rate: number): number {
    return rate >= 1 ? 0 : Math.floor(Math.log1p(-this.rng.float()) / Math.log1p(-rate));
  }

  private start(p: number, n: number): void {
    const rng = this.rng;
    const patches: Patch[] = [];
    const gaps: number[] = []; // before each event; the first is 0
    let freshUsed = 0;
    if (p === BURST) {
      const patch = { user: this.fresh };
      freshUsed = 1;
      for (let i = 0; i < this.a.bursts!.size; i++) {
        patches.push(patch);
        gaps.push(i === 0 ? 0 : 1);
      }
    } else if (p === LARGE) {
      const { min, max } = this.a.largeAmounts!;
      const lo = this.shape.wholeAmounts ? Math.ceil(min) * 100 : Math.ceil(min * 100);
      const hi = this.shape.wholeAmounts ? Math.floor(max) * 100 : Math.floor(max * 100);
      const step = this.shape.wholeAmounts ? 100 : 1;
      const cents = lo + rng.int((hi - lo) / step + 1) * step;
      // Fresh ids here too: a clean user or pair that received a large amount would carry it into its sums.
      freshUsed = this.shape.pairFields ? 2 : 1;
      patches.push(this.shape.pairFields ? { source: this.fresh, target: this.fresh + 1, cents } : { user: this.fresh, cents });
      gaps.push(0);
    } else if (p === LAUNDERING) {
      const { transfers, total } = this.a.laundering!;
      // Just above total / transfers each, with a little spread: the sum exceeds total whatever the draws.
      const base = Math.floor(total / transfers) + 1;
      const spread = Math.max(1, Math.floor(base / 10));
      freshUsed = 2;
      for (let i = 0; i < transfers; i++) {
        patches.push({ source: this.fresh, target: this.fresh + 1, cents: (base + rng.int(spread)) * 100 });
        gaps.push(i === 0 ? 0 : 1 + rng.int(4));
      }
    } else {
      const chosen = new Set<number>();
      while (chosen.size < this.a.locationHops!.locations) chosen.add(rng.int(this.shape.locations));
      freshUsed = 1;
      for (const location of chosen) {
        gaps.push(patches.length === 0 ? 0 : 1 + rng.int(3));
        patches.push({ user: this.fresh, location });
      }
    }
    if (this.pending.length + patches.length > MAX_PENDING) {
      this.skipped++;
      return;
    }
    const slots = this.reserve(n, gaps);
    if (slots[slots.length - 1]! >= this.end) return; // would be cut off by count: a partial instance proves nothing
    this.fresh += freshUsed;
    const group = `${PATTERNS[p]}-${++this.groups[p]!}`;
    const added = patches.map((patch, i): Planted => ({ slot: slots[i]!, pattern: p, group, patch }));
    this.pending = merge(this.pending, added);
  }

  /** Free slots for gaps counted from the slot actually reserved for the previous event. */
  private reserve(n: number, gaps: readonly number[]): number[] {
    const taken = new Set<number>();
    for (const e of this.pending) taken.add(e.slot);
    const slots: number[] = [];
    let slot = n;
    for (const g of gaps) {
      slot += g;
      while (taken.has(slot)) slot++;
      slots.push(slot);
    }
    return slots;
  }

  private updateNextSlot(): void {
    this.nextSlot = Math.min(this.next[0]!, this.next[1]!, this.next[2]!, this.next[3]!, this.pending[0]?.slot ?? Number.POSITIVE_INFINITY);
  }
}

function merge(a: readonly Planted[], b: readonly Planted[]): Planted[] {
  const out: Planted[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]!.slot < b[j]!.slot) ? a[i++]! : b[j++]!);
  return out;
}

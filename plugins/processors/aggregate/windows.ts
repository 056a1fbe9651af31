/**
 * Epoch-aligned windows kept as panes: a pane is `advance` long (a whole tumbling window, or one step of a
 * hopping window), so an event touches exactly one pane whatever size / advance is, and a hopping window is the
 * merge of its size / advance panes, done once when it closes.
 *
 * Window s spans panes s .. s+n-1, i.e. [s × advance, (s+n) × advance) with n = size / advance. Windows close in
 * end order once `floor` reaches their end: the watermark (latest event time minus the allowed lateness), or an
 * early close for room. A pane is dropped when its last window (the one starting at it) closes; an event whose
 * pane is gone is late. An event whose earlier hopping windows closed but whose later ones are open counts in the
 * open ones only, as Flink does: it is late only when every one of its windows closed.
 */
import type { Acc, AccJson, MetricPlan } from './accumulators.ts';

export interface Closed {
  start: number;
  end: number;
  acc: Acc;
  /** Closed before the watermark reached its end (early, for room, or at a stop without stateDir). */
  partial: boolean;
}

/** The plain-JSON form of the windows in a state file. */
export interface WindowsJson {
  maxTime: number | null;
  floor: number | null;
  panes: [pane: number, groups: [key: string, acc: AccJson][]][];
}

export class Windows {
  readonly n: number;
  private readonly panes = new Map<number, Map<string, Acc>>();
  /** Pane indices in ascending order (few: about (size + lateness) / advance). */
  private order: number[] = [];
  maxTime = -Infinity;
  /** Every window ending at or before this time is closed (emitted, or had nothing). */
  floor = -Infinity;
  /** Panes at or below this index are gone: events falling there are late. */
  latePane = -Infinity;
  private nextBoundary = -Infinity;
  /** Open (pane, group) states: the memory maxGroups bounds. */
  open = 0;
  private cachedIndex = Number.NaN;
  private cachedPane: Map<string, Acc> | undefined;

  constructor(
    readonly size: number,
    readonly advance: number,
    readonly lateness: number,
    readonly plan: MetricPlan,
  ) {
    this.n = Math.round(size / advance);
  }

  get paneCount(): number {
    return this.order.length;
  }

  paneOf(time: number): number {
    return Math.floor(time / this.advance);
  }

  /** The groups of pane p, created when missing (consecutive events mostly share a pane: the last one is cached). */
  pane(p: number): Map<string, Acc> {
    if (p === this.cachedIndex) return this.cachedPane!;
    let groups = this.panes.get(p);
    if (!groups) {
      groups = new Map();
      this.panes.set(p, groups);
      const order = this.order;
      let i = order.length;
      while (i > 0 && order[i - 1]! > p) i--;
      order.splice(i, 0, p);
    }
    this.cachedIndex = p;
    this.cachedPane = groups;
    return groups;
  }

  /** Advances the watermark with an event (or clock) time and closes the windows it passes. */
  observe(time: number, out: Closed[]): void {
    if (time <= this.maxTime) return;
    this.maxTime = time;
    const watermark = time - this.lateness;
    if (watermark >= this.nextBoundary) this.closeThrough(watermark, false, out);
  }

  /** Closes the windows of the oldest pane early (partial); returns how many (window, group) results that gave. */
  closeOldest(out: Closed[]): number {
    const oldest = this.order[0];
    if (oldest === undefined) return 0;
    const before = out.length;
    this.closeThrough((oldest + this.n) * this.advance, true, out);
    return out.length - before;
  }

  /** Closes every open window (partial): for a stop that cannot persist them. */
  closeAll(out: Closed[]): void {
    const last = this.order[this.order.length - 1];
    if (last !== undefined) this.closeThrough((last + this.n) * this.advance, true, out);
  }

  /** Closes the windows ending in (floor, until]. */
  private closeThrough(until: number, partial: boolean, out: Closed[]): void {
    if (until <= this.floor) return;
    const { n, order } = this;
    // Windows s with end (s + n) × advance in (floor, until].
    let s = Math.floor(this.floor / this.advance) - n + 1;
    const lastStart = Math.floor(until / this.advance) - n;
    for (let k = 0; k < order.length && s <= lastStart; k++) {
      const p = order[k]!;
      if (p - n + 1 > s) s = p - n + 1;
      for (const stop = Math.min(p, lastStart); s <= stop; s++) this.emitWindow(s, k, partial, out);
    }
    let drop = 0;
    while (drop < order.length && order[drop]! <= lastStart) {
      this.open -= this.panes.get(order[drop]!)!.size;
      this.panes.delete(order[drop]!);
      drop++;
    }
    order.splice(0, drop);
    this.cachedIndex = Number.NaN;
    this.cachedPane = undefined;
    this.floor = until;
    this.latePane = lastStart;
    this.nextBoundary = (Math.floor(until / this.advance) + 1) * this.advance;
  }

  /** Window s from the panes order[from..] that fall in it. */
  private emitWindow(s: number, from: number, partial: boolean, out: Closed[]): void {
    const start = s * this.advance;
    const end = (s + this.n) * this.advance;
    const { order, plan } = this;
    if (this.n === 1) {
      // Tumbling: the pane is the window and is dropped right after, so its accumulators are emitted as they are.
      if (order[from] === s) for (const acc of this.panes.get(s)!.values()) out.push({ start, end, acc, partial });
      return;
    }
    const merged = new Map<string, Acc>();
    for (let k = from; k < order.length && order[k]! < s + this.n; k++) {
      for (const [key, acc] of this.panes.get(order[k]!)!) {
        const into = merged.get(key);
        if (into) plan.merge(into, acc);
        else merged.set(key, plan.clone(acc));
      }
    }
    for (const acc of merged.values()) out.push({ start, end, acc, partial });
  }

  toJson(): WindowsJson {
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    return {
      maxTime: finite(this.maxTime),
      floor: finite(this.floor),
      panes: this.order.map((p) => [p, [...this.panes.get(p)!].map(([key, acc]) => [key, this.plan.toJson(acc)])]),
    };
  }

  /** Restores a saved state into this (empty) instance; throws when the JSON does not fit. */
  restore(json: WindowsJson): void {
    const time = (v: unknown, what: string) => {
      if (v === null) return -Infinity;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} is not a time`);
      return v;
    };
    if (!json || typeof json !== 'object' || !Array.isArray(json.panes)) throw new Error('no panes');
    this.maxTime = time(json.maxTime, 'maxTime');
    const floor = time(json.floor, 'floor');
    if (Number.isFinite(floor)) {
      this.floor = floor;
      this.latePane = Math.floor(floor / this.advance) - this.n;
      this.nextBoundary = (Math.floor(floor / this.advance) + 1) * this.advance;
    }
    for (const entry of json.panes) {
      if (!Array.isArray(entry) || !Number.isSafeInteger(entry[0]) || !Array.isArray(entry[1])) throw new Error('a pane is malformed');
      const [p, groups] = entry;
      if (p <= this.latePane || this.panes.has(p)) throw new Error(`pane ${p} is closed or repeated`);
      const map = this.pane(p);
      for (const g of groups) {
        if (!Array.isArray(g) || typeof g[0] !== 'string') throw new Error('a group is malformed');
        map.set(g[0], this.plan.fromJson(g[1]));
      }
      this.open += map.size;
    }
  }
}

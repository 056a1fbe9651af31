/**
 * One key's trailing window for a windowed rule: a time-ordered deque of (time, value, id) entries with the rule's
 * measure (count, exact sum of scaled integers, or count of distinct values) kept up to date as entries enter and
 * leave, so checking a key costs O(1) beyond pruning. At most `maxEntries` entries: the oldest are dropped beyond.
 *
 * Out-of-order events: the window ends at the latest event time seen for the key. An event at or before that
 * window's start is late and ignored; an older event inside it is inserted in time order.
 */
export type Measure = 'count' | 'sum' | 'distinct';

/** What a rule's windows share; `watermark` is the latest event time the rule has seen (drives expiry). */
export interface WindowSpec {
  readonly measure: Measure;
  readonly windowMs: number;
  readonly maxEntries: number;
  watermark: number;
}

export type AddResult = 'added' | 'late' | 'overflow';

/** Distinct values are counted by scanning up to this many entries; a Map takes over beyond. */
const SMALL = 16;

export class KeyWindow {
  // Parallel arrays holding the entries in [head, end), in time order. Times stay unboxed doubles; ids (the only
  // strings kept per event) are released as entries leave. The arrays are reused rather than reallocated when the
  // window empties, which most sparse keys do at nearly every event: a fresh backing store per event would
  // survive into the old generation with its long-lived window and make garbage collection the main cost.
  private times: number[] = [];
  private values: (number | string)[] | undefined;
  /** Allocated with the first id: many feeds (the fintrans transfers) carry none. */
  private idList: (string | undefined)[] | undefined;
  private head = 0;
  private end = 0;
  /** Latest event time seen for this key: the end of its trailing window. */
  maxTime = Number.NEGATIVE_INFINITY;
  /** The key fired at mutedUntil − window: no further fire until its window ends after this. */
  mutedUntil = Number.NEGATIVE_INFINITY;
  /** sum: the scaled integer total. */
  private sum = 0;
  /** distinct: entries per value, kept once the window holds more than SMALL entries (below, a scan is cheaper). */
  private counts: Map<string, number> | undefined;

  /** Neighbours in the store's recency list. */
  prev: KeyWindow | undefined;
  next: KeyWindow | undefined;

  constructor(
    readonly spec: WindowSpec,
    public key = '',
  ) {
    if (spec.measure !== 'count') this.values = [];
  }

  get size(): number {
    return this.end - this.head;
  }

  /** count: entries; sum: the scaled integer total; distinct: distinct values. */
  get measure(): number {
    const m = this.spec.measure;
    if (m === 'count') return this.size;
    if (m === 'sum') return this.sum;
    return this.counts !== undefined ? this.counts.size : this.scanDistinct();
  }

  /** Adds an entry (value: a scaled integer for sum, the value's text for distinct) and prunes the window. */
  add(time: number, value: number | string, id: string | undefined): AddResult {
    const { windowMs, maxEntries } = this.spec;
    if (time <= this.maxTime - windowMs) return 'late';
    if (time > this.maxTime) {
      this.maxTime = time;
      this.pruneBefore(time - windowMs);
    }
    const times = this.times;
    let at = this.end;
    // Usually in order: walk back from the tail only past newer entries.
    while (at > this.head && times[at - 1]! > time) at--;
    if (at === 0 && times.length === 0) {
      // Literals allocate exactly one slot; a first push would reserve seventeen, and most keys never need more.
      this.times = [time];
      if (this.values !== undefined) this.values = [value];
      if (id !== undefined) this.idList = [id];
    } else if (at === this.end) {
      times[at] = time;
      if (this.values !== undefined) this.values[at] = value;
      if (id !== undefined) (this.idList ??= [])[at] = id;
      else if (this.idList !== undefined) this.idList[at] = undefined;
    } else {
      // Rare (out of order): drop the unused tail first so splice shifts only live entries.
      times.length = this.end;
      times.splice(at, 0, time);
      if (this.values !== undefined) {
        this.values.length = this.end;
        this.values.splice(at, 0, value);
      }
      if (id !== undefined || this.idList !== undefined) {
        const ids = (this.idList ??= []);
        ids.length = this.end;
        ids.splice(at, 0, id);
      }
    }
    this.end++;
    this.enter(value);
    if (this.size > maxEntries) {
      this.dropOldest();
      return 'overflow';
    }
    return 'added';
  }

  /** Time of the oldest entry still in the window. */
  get oldestTime(): number | undefined {
    return this.size ? this.times[this.head] : undefined;
  }

  /** Ids of the newest entries (up to max), oldest first. */
  ids(max: number): string[] {
    const out: string[] = [];
    const ids = this.idList;
    if (ids === undefined) return out;
    for (let i = this.end - 1; i >= this.head && out.length < max; i--) {
      const id = ids[i];
      if (id !== undefined) out.push(id);
    }
    return out.reverse();
  }

  /** Forgets every entry (after a fire, or once all left the window), keeping maxTime and mutedUntil. */
  clear(): void {
    if (this.times.length > 64) {
      // A burst grew the arrays: give the memory back rather than keep it for a key that is usually quiet.
      this.times = [];
      this.idList = undefined;
      if (this.values !== undefined) this.values = [];
    } else {
      this.idList?.fill(undefined, this.head, this.end);
    }
    this.head = this.end = 0;
    this.sum = 0;
    this.counts = undefined;
  }

  /** Makes this window a new, empty one for `key` (the store reuses expired windows rather than allocate). */
  reset(key: string): void {
    this.clear();
    this.key = key;
    this.maxTime = this.mutedUntil = Number.NEGATIVE_INFINITY;
  }

  private scanDistinct(): number {
    const values = this.values!;
    let n = 0;
    for (let i = this.head; i < this.end; i++) {
      let j = this.head;
      while (j < i && values[j] !== values[i]) j++;
      if (j === i) n++;
    }
    return n;
  }

  private enter(value: number | string): void {
    const m = this.spec.measure;
    if (m === 'sum') this.sum += value as number;
    else if (m === 'distinct') {
      let counts = this.counts;
      if (counts === undefined) {
        // Most keys see a handful of events per window: a Map each would cost more than scanning them.
        if (this.size <= SMALL) return;
        counts = this.counts = new Map();
        const values = this.values!;
        for (let i = this.head; i < this.end; i++) counts.set(values[i] as string, (counts.get(values[i] as string) ?? 0) + 1);
        return;
      }
      counts.set(value as string, (counts.get(value as string) ?? 0) + 1);
    }
  }

  private dropOldest(): void {
    const head = this.head;
    const values = this.values;
    if (values !== undefined) {
      const value = values[head]!;
      if (this.spec.measure === 'sum') this.sum -= value as number;
      else if (this.counts !== undefined) {
        const n = this.counts.get(value as string)! - 1;
        if (n === 0) this.counts.delete(value as string);
        else this.counts.set(value as string, n);
      }
    }
    if (this.idList !== undefined) this.idList[head] = undefined;
    this.head = head + 1;
    if (this.head === this.end) {
      this.head = this.end = 0;
    } else if (this.head > 32 && this.head * 2 > this.end) {
      // Move the live entries to the front in place once the dead prefix outweighs them: amortised O(1).
      const n = this.end - this.head;
      this.times.copyWithin(0, this.head, this.end);
      this.idList?.copyWithin(0, this.head, this.end).fill(undefined, n, this.end);
      values?.copyWithin(0, this.head, this.end);
      this.head = 0;
      this.end = n;
    }
  }

  /** Drops entries at or before `cutoff`: the window is (end − window, end]. */
  private pruneBefore(cutoff: number): void {
    while (this.head < this.end && this.times[this.head]! <= cutoff) this.dropOldest();
  }
}

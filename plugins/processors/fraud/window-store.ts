/**
 * The state of a processor's windowed rules: one table of keys per rule, at most `maxKeys` keys in all (the least
 * recently seen key is evicted beyond that, counted), and keys whose window has passed swept from the least
 * recently seen end as event time advances, so an idle key costs nothing.
 */
import { KeyWindow, type WindowSpec } from './key-window.ts';

/**
 * Expired windows a table keeps for its next new keys. With keys that are seen about once per window (most users
 * of a transaction feed), every event would otherwise allocate a window that lives exactly one window length: long
 * enough to be copied into the old generation and then collected there, which made garbage collection the largest
 * cost of the rules. Keys expire at the end of a batch and new ones arrive during the next, so a pool of a few
 * batches' worth of keys covers the churn; beyond it, expired windows are left to the collector.
 */
const POOL = 4096;

/** One rule's keys: a Map to find them, and a list through them in the order they were last seen. */
class Table {
  readonly map = new Map<string, KeyWindow>();
  /** Expired windows kept for reuse (see POOL). */
  readonly free: KeyWindow[] = [];
  /** Least and most recently seen. */
  oldest: KeyWindow | undefined;
  newest: KeyWindow | undefined;

  unlink(w: KeyWindow): void {
    if (w.prev) w.prev.next = w.next;
    else this.oldest = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.newest = w.prev;
    w.prev = w.next = undefined;
  }

  append(w: KeyWindow): void {
    w.prev = this.newest;
    if (this.newest) this.newest.next = w;
    else this.oldest = w;
    this.newest = w;
  }

  remove(w: KeyWindow): void {
    this.unlink(w);
    this.map.delete(w.key);
    if (this.free.length < POOL) {
      w.reset('');
      this.free.push(w);
    }
  }
}

export class WindowStore {
  private readonly tables: Table[] = [];
  private total = 0;

  constructor(
    readonly maxKeys: number,
    private readonly evictions: { inc(): void },
  ) {}

  /** A new table (one per rule) and its number. */
  table(): number {
    this.tables.push(new Table());
    return this.tables.length - 1;
  }

  get size(): number {
    return this.total;
  }

  /**
   * The key's window (created when new, evicting the least recently seen key at maxKeys), marked most recent.
   * Recency is a linked list through the windows rather than Map re-insertion: moving a key costs four pointer
   * writes, where deleting and re-adding it would make the Map rebuild its table every few thousand events.
   */
  touch(table: number, key: string, spec: WindowSpec): KeyWindow {
    const t = this.tables[table]!;
    let w = t.map.get(key);
    if (w !== undefined) {
      if (w !== t.newest) {
        t.unlink(w);
        t.append(w);
      }
      return w;
    }
    if (this.total >= this.maxKeys) this.evictOne(t);
    w = t.free.pop();
    if (w !== undefined && w.spec === spec) w.key = key;
    else w = new KeyWindow(spec, key);
    t.map.set(key, w);
    t.append(w);
    this.total++;
    return w;
  }

  /** Drops keys, least recently seen first, whose window and mute both ended before the rule's watermark. */
  expire(table: number, watermark: number): number {
    const t = this.tables[table]!;
    let n = 0;
    for (let w = t.oldest; w !== undefined && Math.max(w.maxTime, w.mutedUntil) <= watermark - w.spec.windowMs; w = t.oldest) {
      t.remove(w);
      n++;
    }
    this.total -= n;
    return n;
  }

  /** Evicts from the rule's own table when it has keys, else from the largest one. */
  private evictOne(preferred: Table): void {
    let t = preferred;
    if (t.map.size === 0) for (const other of this.tables) if (other.map.size > t.map.size) t = other;
    if (t.oldest === undefined) return;
    t.remove(t.oldest);
    this.total--;
    this.evictions.inc();
  }
}

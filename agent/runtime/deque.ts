/**
 * A queue of events stored as the batches they were put in, so a put of n events costs one array push and a
 * take copies only what it returns. Rollbacks go back to the head in their original order.
 */
import type { Event } from '../event.ts';

export class EventDeque {
  private chunks: (readonly Event[])[] = [];
  private head = 0; // index into chunks[0]
  private _size = 0;

  get size(): number {
    return this._size;
  }

  pushBatch(events: readonly Event[]): void {
    if (events.length === 0) return;
    this.chunks.push(events);
    this._size += events.length;
  }

  /** Returns events to the head, ahead of everything queued. */
  unshiftBatch(events: readonly Event[]): void {
    if (events.length === 0) return;
    if (this.head > 0) {
      this.chunks[0] = this.chunks[0]!.slice(this.head);
      this.head = 0;
    }
    this.chunks.unshift(events);
    this._size += events.length;
  }

  take(max: number): Event[] {
    const out: Event[] = [];
    while (out.length < max && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const n = Math.min(max - out.length, chunk.length - this.head);
      if (this.head === 0 && n === chunk.length && out.length === 0 && n === max) {
        // Whole-batch fast path: hand the batch over without copying.
        this.chunks.shift();
        this._size -= n;
        return chunk as Event[];
      }
      for (let i = 0; i < n; i++) out.push(chunk[this.head + i]!);
      this.head += n;
      if (this.head >= chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this._size -= out.length;
    return out;
  }
}

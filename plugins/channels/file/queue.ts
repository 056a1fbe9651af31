/**
 * The file channel's in-memory index: chunks of committed events in order, each pointing at its PUT record. The
 * events of recent chunks stay in memory (bounded by `maxCached`); older ones are read back from their segment
 * when a sink reaches them, so a channel holding a million events does not hold a million objects.
 */
import type { Event } from '../../../agent/index.ts';
import { HEADER_SIZE, readPutRecord, RecordError } from './record.ts';
import type { Segment, SegmentLog } from './segment-log.ts';

/** A chunk whose record could not be read back intact: its events are skipped, never delivered damaged. */
export interface TakeDamage {
  segment: Segment;
  /** Offset of the record in its segment. */
  offset: number;
  /** Events lost with it. */
  events: number;
  reason: string;
}

export interface Chunk {
  segment: Segment;
  /** Sequence number of index 0. */
  start: number;
  count: number;
  /** Next index to take. */
  pos: number;
  /** Indexes already taken before a restart (from TAKE records). */
  skip?: Uint8Array;
  /** Events not yet taken, when cached or loaded; index i is event start + i. */
  events?: Event[];
  /** Where the PUT payload is, for reloading. */
  payloadOffset: number;
  payloadLength: number;
}

/** A run of consecutive sequence numbers taken from one segment. */
export interface Run {
  segment: Segment;
  start: number;
  events: Event[];
}

export class ChunkQueue {
  private chunks: Chunk[] = [];
  private head = 0;
  /** Events that can still be taken. */
  size = 0;
  cached = 0;

  constructor(
    private readonly log: SegmentLog,
    private readonly maxCached: number,
    private readonly onDamage: (d: TakeDamage) => void = () => {},
  ) {}

  push(chunk: Chunk, remaining: number): void {
    if (chunk.events) {
      if (this.cached + chunk.count > this.maxCached) chunk.events = undefined;
      else this.cached += chunk.count;
    }
    this.chunks.push(chunk);
    this.size += remaining;
  }

  /** Puts rolled-back runs back at the head, in their original order. */
  unshift(runs: readonly Run[]): void {
    const back: Chunk[] = runs.map((r) => ({ segment: r.segment, start: r.start, count: r.events.length, pos: 0, events: r.events, payloadOffset: -1, payloadLength: 0 }));
    this.chunks = [...back, ...this.chunks.slice(this.head)];
    this.head = 0;
    for (const r of runs) {
      this.size += r.events.length;
      this.cached += r.events.length;
    }
  }

  /** Takes up to `max` events as runs of consecutive sequence numbers. Callers serialize takes. */
  async take(max: number): Promise<Run[]> {
    const runs: Run[] = [];
    let taken = 0;
    while (taken < max && this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      if (!c.events) {
        // Header and payload, checked again: recovery vouched for these bytes, but that may have been hours ago.
        const offset = c.payloadOffset - HEADER_SIZE;
        let events: Event[];
        try {
          events = readPutRecord(await this.log.read(c.segment, offset, c.payloadLength + HEADER_SIZE)).events;
          if (events.length !== c.count) throw new RecordError('count');
        } catch (error) {
          if (!(error instanceof RecordError)) throw error;
          const lost = this.dropChunk(c);
          this.onDamage({ segment: c.segment, offset, events: lost, reason: error.reason });
          continue;
        }
        c.events = events;
        this.cached += c.count;
      }
      let run: Run | undefined;
      while (c.pos < c.count && taken < max) {
        const i = c.pos++;
        if (c.skip?.[i]) {
          run = undefined;
          continue;
        }
        if (!run) {
          run = { segment: c.segment, start: c.start + i, events: [] };
          runs.push(run);
        }
        run.events.push(c.events[i]!);
        taken++;
      }
      if (c.pos >= c.count) {
        this.cached -= c.count;
        c.events = undefined;
        this.advance();
      }
    }
    this.size -= taken;
    return runs;
  }

  private advance(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Skips the head chunk whose record is damaged: its untaken events leave the count and their segment. */
  private dropChunk(c: Chunk): number {
    let lost = 0;
    for (let i = c.pos; i < c.count; i++) if (!c.skip?.[i]) lost++;
    c.pos = c.count;
    this.size -= lost;
    c.segment.live -= lost;
    this.advance();
    return lost;
  }
}

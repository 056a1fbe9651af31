/**
 * Reads one file from its durable position to the end: large chunks, lines split in place, events gathered into
 * batches of batchSize, each batch emitted and only then the position advanced. A chunk is fully split before its
 * batches are emitted, so the per-line work runs in a tight synchronous loop and the awaits happen per batch.
 */
import { type Stats, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Event, SourceRunContext } from '../../../agent/index.ts';
import type { LineDecoder } from './decoder.ts';
import { LineSplitter, type LineHandler } from './line-reader.ts';
import type { Candidate } from './scanner.ts';
import type { PositionTracker } from './tracker.ts';

export const CHUNK_SIZE = 1 << 20;

export interface FileReaderOptions {
  batchSize: number;
  maxLineLength: number;
  /** Strip a UTF-8 byte-order mark at the start of a file. */
  stripBom: boolean;
  chunkSize?: number;
}

export type ReadResult =
  /** Read to the end and acknowledged; `modified` when its size or mtime changed since it was first opened. */
  | { kind: 'done'; modified: boolean; lines: number }
  /** emit rejected or the source is stopping: the position was not advanced past the unacknowledged batch. */
  | { kind: 'stopped'; error?: unknown }
  /** It vanished, or changed since it was listed (still being written): look again at the next scan. */
  | { kind: 'skipped' }
  | { kind: 'unreadable'; error: NodeJS.ErrnoException };

interface Ready {
  events: Event[];
  next: number;
  lines: number;
}

export class FileReader implements LineHandler {
  private readonly buf: Buffer;
  private readonly batchSize: number;
  // Per-file state, touched for every line.
  private batch: Event[] = [];
  private ready: Ready[] = [];
  private lines = 0;
  private consumed = 0;

  constructor(
    private readonly options: FileReaderOptions,
    private readonly tracker: PositionTracker,
    private readonly decoder: LineDecoder,
  ) {
    this.buf = Buffer.allocUnsafe(options.chunkSize ?? CHUNK_SIZE);
    this.batchSize = options.batchSize;
  }

  line(buf: Buffer, start: number, end: number, next: number): void {
    this.lines++;
    this.consumed = next;
    const event = this.decoder.decode(buf, start, end, next);
    if (event === undefined) return;
    this.batch.push(event);
    if (this.batch.length >= this.batchSize) {
      this.ready.push({ events: this.batch, next, lines: this.lines });
      this.batch = [];
    }
  }

  tooLong(head: Buffer, length: number, next: number): void {
    this.lines++;
    this.consumed = next;
    this.decoder.tooLong(head, length, next);
  }

  async read(file: Candidate, ctx: SourceRunContext): Promise<ReadResult> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file.abs, 'r');
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return e.code === 'ENOENT' ? { kind: 'skipped' } : { kind: 'unreadable', error: e };
    }
    try {
      return await this.readOpen(fh, file, ctx);
    } catch (error) {
      return { kind: 'unreadable', error: error as NodeJS.ErrnoException };
    } finally {
      this.batch = [];
      this.ready = [];
      await fh.close().catch(() => {});
    }
  }

  private async readOpen(fh: FileHandle, file: Candidate, ctx: SourceRunContext): Promise<ReadResult> {
    const st = await fh.stat();
    if (!st.isFile()) return { kind: 'skipped' };
    const pos = this.tracker.position;
    const resuming = pos !== null && pos.path === file.rel && pos.ino === st.ino && pos.dev === st.dev;
    if (!resuming) {
      // Listed with another size or mtime: a writer is still at work (or replaced it); wait until it settles.
      if (st.size !== file.size || st.mtimeMs !== file.mtimeMs || st.ino !== file.ino) return { kind: 'skipped' };
      this.tracker.save({ path: file.rel, ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs, offset: 0, lines: 0 });
    }
    const opened = this.tracker.position!;
    const { size, mtimeMs } = opened;
    this.lines = opened.lines;
    this.consumed = opened.offset;
    const atEnd = resuming && opened.offset === size && st.size === size && st.mtimeMs === mtimeMs;
    if (!atEnd) {
      const stopped = await this.readLines(fh, opened.offset, ctx);
      if (stopped) return stopped;
    }
    const after: Stats = await fh.stat();
    return { kind: 'done', modified: after.size !== size || after.mtimeMs !== mtimeMs, lines: this.lines };
  }

  /** Reads from `offset` to the end of the file; returns a result only when it had to stop early. */
  private async readLines(fh: FileHandle, offset: number, ctx: SourceRunContext): Promise<ReadResult | undefined> {
    const splitter = new LineSplitter(this, { maxLineLength: this.options.maxLineLength, startOffset: offset, stripBom: offset === 0 && this.options.stripBom });
    const buf = this.buf;
    for (;;) {
      if (ctx.signal.aborted) return { kind: 'stopped' };
      const { bytesRead } = await fh.read(buf, 0, buf.length, splitter.offset);
      this.decoder.now = Date.now();
      if (bytesRead > 0) splitter.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      else {
        splitter.end();
        // Trailing blank lines are consumed too, so a finished file's position equals its size.
        this.consumed = splitter.offset;
        if (this.batch.length > 0) this.ready.push({ events: this.batch, next: this.consumed, lines: this.lines });
        this.batch = [];
      }
      for (const ready of this.ready) {
        try {
          await ctx.emit(ready.events);
        } catch (error) {
          return { kind: 'stopped', error };
        }
        this.tracker.advance(ready.next, ready.lines);
        if (ctx.signal.aborted) return { kind: 'stopped' };
      }
      this.ready = [];
      // Lines that produced no event (dead letters, blank lines) need no acknowledgement: record them too, so a
      // file of bad lines is not dead-lettered again after a restart.
      if (this.batch.length === 0) this.tracker.advance(this.consumed, this.lines);
      if (bytesRead === 0) return undefined;
    }
  }
}

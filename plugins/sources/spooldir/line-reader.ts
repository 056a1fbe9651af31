/**
 * Splits a byte stream into lines without decoding it. Chunks are scanned in place with `indexOf(10)`; only the
 * unterminated tail of a chunk is copied (into a carry buffer), so a 1 MiB chunk of short lines costs one native
 * search per line and no copies. Every line is reported with the file offset just after its terminator, which is
 * the resume position once that line has been acknowledged.
 */

/** Bytes of an over-long line kept for its dead letter. */
export const TOO_LONG_HEAD_BYTES = 1024;

const LF = 10;
const CR = 13;

export interface LineHandler {
  /** A non-empty line without its terminator (and without a trailing \r); `next` is the offset after the \n. */
  line(buf: Buffer, start: number, end: number, next: number): void;
  /** A line longer than maxLineLength: its first bytes (a copy), its length, and the offset after its \n. */
  tooLong(head: Buffer, length: number, next: number): void;
}

export interface LineSplitterOptions {
  /** Longest line in bytes, terminator excluded. Longer lines are reported whole through `tooLong`, never split. */
  maxLineLength: number;
  /** File offset of the first byte that will be pushed. */
  startOffset?: number;
  /** Drop a UTF-8 byte-order mark at the start of the first line (only meaningful when reading from offset 0). */
  stripBom?: boolean;
}

export class LineSplitter {
  /** File offset of the next byte to be pushed. */
  offset: number;
  private readonly max: number;
  private bom: boolean;
  private carry: Buffer;
  private carryLen = 0;
  /** Set while skipping the rest of an over-long line that did not fit the carry buffer. */
  private discarding = false;
  private discardHead: Buffer = Buffer.alloc(0);
  private discardLen = 0;

  constructor(
    private readonly handler: LineHandler,
    options: LineSplitterOptions,
  ) {
    this.max = options.maxLineLength;
    this.offset = options.startOffset ?? 0;
    this.bom = options.stripBom ?? false;
    // Starts small and grows: most lines are short, and the cap is maxLineLength + 1 (room for a \r).
    this.carry = Buffer.allocUnsafe(Math.min(4096, this.max + 1));
  }

  /** Scans a chunk. The caller may reuse `chunk` as soon as this returns. */
  push(chunk: Buffer): void {
    const base = this.offset;
    this.offset += chunk.length;
    let pos = 0;
    if (this.discarding) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.discardLen += chunk.length;
        return;
      }
      this.finishDiscard(nl, base + nl + 1);
      pos = nl + 1;
    } else if (this.carryLen > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.appendCarry(chunk, 0, chunk.length);
        return;
      }
      this.appendCarry(chunk, 0, nl);
      if (this.discarding) this.finishDiscard(0, base + nl + 1);
      else {
        const len = this.carryLen;
        this.carryLen = 0;
        this.emit(this.carry, 0, len, base + nl + 1);
      }
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      this.emit(chunk, pos, nl, base + nl + 1);
      pos = nl + 1;
    }
    if (pos < chunk.length) this.appendCarry(chunk, pos, chunk.length);
  }

  /** Flushes an unterminated last line at end of input. */
  end(): void {
    if (this.discarding) this.finishDiscard(0, this.offset);
    else if (this.carryLen > 0) {
      const len = this.carryLen;
      this.carryLen = 0;
      this.emit(this.carry, 0, len, this.offset);
    }
  }

  private emit(buf: Buffer, start: number, end: number, next: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    if (this.bom) {
      this.bom = false;
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    }
    if (end === start) return;
    if (end - start > this.max) {
      this.handler.tooLong(Buffer.from(buf.subarray(start, Math.min(end, start + TOO_LONG_HEAD_BYTES))), end - start, next);
      return;
    }
    this.handler.line(buf, start, end, next);
  }

  private appendCarry(src: Buffer, from: number, to: number): void {
    const needed = this.carryLen + (to - from);
    // +1: a line of exactly maxLineLength may still be followed by the \r of a CRLF we have not seen yet.
    if (needed > this.max + 1) {
      const head = Buffer.allocUnsafe(Math.min(TOO_LONG_HEAD_BYTES, needed));
      const fromCarry = this.carry.copy(head, 0, 0, Math.min(this.carryLen, head.length));
      src.copy(head, fromCarry, from, from + (head.length - fromCarry));
      this.bom = false;
      this.discardHead = head;
      this.discardLen = needed;
      this.discarding = true;
      this.carryLen = 0;
      return;
    }
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.max + 1, Math.max(needed, this.carry.length * 2)));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    src.copy(this.carry, this.carryLen, from, to);
    this.carryLen = needed;
  }

  /** Ends an over-long line; `extra` bytes of its body were in the current chunk before the \n. */
  private finishDiscard(extra: number, next: number): void {
    this.discarding = false;
    this.handler.tooLong(this.discardHead, this.discardLen + extra, next);
    this.discardHead = Buffer.alloc(0);
    this.discardLen = 0;
  }
}

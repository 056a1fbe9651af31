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
  /** The first bytes of the line being skipped (filled up to TOO_LONG_HEAD_BYTES), and how many are set. */
  private discardHead: Buffer = Buffer.alloc(0);
  private discardHeadLen = 0;
  private discardLen = 0;
  /** Whether the last byte skipped was a \r, which is the CR of a CRLF if the \n comes next. */
  private discardEndsCR = false;

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
      this.discard(chunk, 0, nl < 0 ? chunk.length : nl);
      if (nl < 0) return;
      this.finishDiscard(base + nl + 1);
      pos = nl + 1;
    } else if (this.carryLen > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.appendCarry(chunk, 0, chunk.length);
        return;
      }
      this.appendCarry(chunk, 0, nl);
      if (this.discarding) this.finishDiscard(base + nl + 1);
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
    if (this.discarding) this.finishDiscard(this.offset);
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
    // +1: a line of exactly maxLineLength may still be followed by the \r of a CRLF we have not seen yet; +3: the
    // first line may still start with a BOM that is not part of it.
    const limit = this.max + 1 + (this.bom ? 3 : 0);
    if (needed > limit) {
      // The line is too long; from here on only its first bytes and its length are kept.
      const at = (i: number) => (i < this.carryLen ? this.carry[i] : src[from + i - this.carryLen]);
      const skip = this.bom && at(0) === 0xef && at(1) === 0xbb && at(2) === 0xbf ? 3 : 0;
      this.bom = false;
      this.discarding = true;
      this.discardHead = Buffer.allocUnsafe(TOO_LONG_HEAD_BYTES);
      this.discardHeadLen = 0;
      this.discardLen = 0;
      this.discard(this.carry, Math.min(skip, this.carryLen), this.carryLen);
      this.discard(src, from + Math.max(0, skip - this.carryLen), to);
      this.carryLen = 0;
      return;
    }
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(needed, this.carry.length * 2)));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    src.copy(this.carry, this.carryLen, from, to);
    this.carryLen = needed;
  }

  /** Skips bytes of an over-long line, keeping them only while its head is not full. */
  private discard(src: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const room = this.discardHead.length - this.discardHeadLen;
    if (room > 0) this.discardHeadLen += src.copy(this.discardHead, this.discardHeadLen, from, Math.min(to, from + room));
    this.discardLen += to - from;
    this.discardEndsCR = src[to - 1] === CR;
  }

  /**
   * Ends an over-long line at its \n (or the end of input). The CR of a CRLF is not part of the line, as for lines
   * of normal length: not in its length, nor in its head.
   */
  private finishDiscard(next: number): void {
    const length = this.discardLen - (this.discardEndsCR ? 1 : 0);
    const head = this.discardHead.subarray(0, Math.min(this.discardHeadLen, length));
    this.discarding = false;
    this.discardHead = Buffer.alloc(0);
    this.discardHeadLen = 0;
    this.discardLen = 0;
    this.discardEndsCR = false;
    this.handler.tooLong(head, length, next);
  }
}

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineSplitter, TOO_LONG_HEAD_BYTES } from './line-reader.ts';

interface Out {
  lines: string[];
  nexts: number[];
  tooLong: { head: Buffer; length: number; next: number }[];
}

function split(chunks: Buffer[], options: { maxLineLength?: number; stripBom?: boolean; startOffset?: number; raw?: boolean } = {}): Out {
  const out: Out = { lines: [], nexts: [], tooLong: [] };
  const splitter = new LineSplitter(
    {
      line(buf, start, end, next) {
        out.lines.push(buf.toString(options.raw ? 'latin1' : 'utf8', start, end));
        out.nexts.push(next);
      },
      tooLong(head, length, next) {
        out.tooLong.push({ head, length, next });
      },
    },
    { maxLineLength: options.maxLineLength ?? 1 << 20, stripBom: options.stripBom, startOffset: options.startOffset },
  );
  for (const chunk of chunks) {
    // A reused read buffer: scribble over the chunk after the push to prove nothing kept a reference to it.
    const copy = Buffer.from(chunk);
    splitter.push(copy);
    copy.fill(0x41);
  }
  splitter.end();
  return out;
}

function chunksOf(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(buf.subarray(from, p));
    from = p;
  }
  chunks.push(buf.subarray(from));
  return chunks;
}

describe('LineSplitter', () => {
  test('splits LF and CRLF lines, skips empty ones, keeps an unterminated last line', () => {
    const out = split([Buffer.from('a\r\nbb\n\n\r\nccc\r\n\nlast')]);
    expect(out.lines).toEqual(['a', 'bb', 'ccc', 'last']);
    expect(out.nexts).toEqual([3, 6, 14, 19]);
  });

  test('a lone \\r inside a line is kept; only the one before \\n is stripped', () => {
    expect(split([Buffer.from('a\rb\r\n')]).lines).toEqual(['a\rb']);
  });

  test('strips a UTF-8 BOM at the start only when asked, even when it straddles chunks', () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n\ufeffx\n')]);
    expect(split([data.subarray(0, 1), data.subarray(1, 2), data.subarray(2)], { stripBom: true }).lines).toEqual(['{"a":1}', '\ufeffx']);
    expect(split([data]).lines[0]).toBe('\ufeff{"a":1}');
    expect(split([Buffer.from([0xef, 0xbb, 0xbf, 0x0d, 0x0a])], { stripBom: true }).lines).toEqual([]);
  });

  test('offsets start at startOffset', () => {
    expect(split([Buffer.from('x\ny\n')], { startOffset: 100 }).nexts).toEqual([102, 104]);
  });

  test('a line longer than maxLineLength is reported once, whole, with its first bytes', () => {
    const long = 'L'.repeat(5000);
    const data = Buffer.from(`ok\n${long}\r\nafter\n`);
    for (const cuts of [[], [10], [1, 2, 3, 4000, 4500, 5003, 5004], [5003]]) {
      const out = split(chunksOf(data, cuts), { maxLineLength: 100 });
      expect(out.lines).toEqual(['ok', 'after']);
      expect(out.tooLong).toHaveLength(1);
      expect(out.tooLong[0]!.head.toString()).toBe('L'.repeat(TOO_LONG_HEAD_BYTES));
      expect(out.tooLong[0]!.next).toBe(3 + 5000 + 2);
      expect(out.tooLong[0]!.length).toBe(5000);
    }
  });

  test('lines of exactly maxLineLength pass, with LF or CRLF, in one chunk or split', () => {
    const data = Buffer.from('abcd\r\nefgh\nijklm\n');
    for (const cuts of [[], [4], [5], [2, 8, 12]]) {
      const out = split(chunksOf(data, cuts), { maxLineLength: 4 });
      expect(out.lines).toEqual(['abcd', 'efgh']);
      expect(out.tooLong.map((t) => t.head.toString())).toEqual(['ijklm']);
    }
  });

  test('a BOM does not count towards maxLineLength, however the first line is cut', () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('abcd\nefghi\n')]);
    for (const cuts of [[], [1], [2], [3], [5], [1, 2, 3, 4, 5, 6]]) {
      const out = split(chunksOf(data, cuts), { maxLineLength: 4, stripBom: true });
      expect(out.lines).toEqual(['abcd']);
      expect(out.tooLong.map((t) => [t.head.toString(), t.length, t.next])).toEqual([['efghi', 5, 14]]);
    }
    const long = split(chunksOf(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('abcdefgh\n')]), [2, 4]), { maxLineLength: 4, stripBom: true });
    expect(long.tooLong.map((t) => [t.head.toString(), t.length])).toEqual([['abcdefgh', 8]]);
  });

  test('an over-long CRLF line: the CR is neither in its length nor in its head, and the head fills up to its size', () => {
    const line = 'y'.repeat(3000);
    for (const cuts of [[], [5], [5, 6, 7], [3001], [3002], [1500, 3001]]) {
      const out = split(chunksOf(Buffer.from(`${line}\r\nz\n`), cuts), { maxLineLength: 4 });
      expect(out.tooLong.map((t) => [t.head.toString(), t.length, t.next])).toEqual([['y'.repeat(TOO_LONG_HEAD_BYTES), 3000, 3002]]);
      expect(out.lines).toEqual(['z']);
    }
    const short = split(chunksOf(Buffer.from('abcdef\r\n'), [2, 7]), { maxLineLength: 3 });
    expect(short.tooLong.map((t) => [t.head.toString(), t.length])).toEqual([['abcdef', 6]]);
  });

  test('an over-long unterminated last line is reported at end of input', () => {
    const out = split([Buffer.from('x\n' + 'y'.repeat(50))], { maxLineLength: 10 });
    expect(out.lines).toEqual(['x']);
    expect(out.tooLong).toEqual([{ head: Buffer.from('y'.repeat(50)), length: 50, next: 52 }]);
  });

  test('property: lines joined with \\n or \\r\\n and cut anywhere come back unchanged', () => {
    const line = fc.string({ unit: 'grapheme', minLength: 0, maxLength: 40 }).filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.boolean()), { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, finalNewline, cuts) => {
          const text = items.map(([l, crlf], i) => l + (i < items.length - 1 || finalNewline ? (crlf ? '\r\n' : '\n') : '')).join('');
          const data = Buffer.from(text, 'utf8');
          const out = split(chunksOf(data, cuts));
          expect(out.lines).toEqual(items.map(([l]) => l).filter((l) => l !== ''));
          // Every reported offset is right after a terminator (or the end), and they increase.
          for (const n of out.nexts) expect(n === data.length || data[n - 1] === 10).toBe(true);
          expect([...out.nexts].sort((a, b) => a - b)).toEqual(out.nexts);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('property: any bytes (multi-byte UTF-8, CR, BOM, over-long lines) cut anywhere split exactly like the reference', () => {
    // Pieces chosen to sit on the edges: multi-byte characters (split by the cuts), CRs before and away from LFs,
    // BOMs, invalid bytes, and runs long enough to cross maxLineLength in one chunk or across several.
    const piece = fc.oneof(
      fc.constantFrom('a', '€', '😀', 'é', '\r', '\n', '\r\n', '\ufeff', '{"k":1}').map((s) => Buffer.from(s)),
      fc.constantFrom(Buffer.from([0xff]), Buffer.from([0xe2, 0x82]), Buffer.from([0xef, 0xbb, 0xbf])),
      fc.integer({ min: 1, max: 80 }).map((n) => Buffer.alloc(n, 0x78)),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.nat({ max: 1000 }),
        (pieces, stripBom, max, cuts, startOffset) => {
          const data = Buffer.concat(pieces);
          const want = reference(data, { maxLineLength: max, stripBom, startOffset });
          const got = split(chunksOf(data, cuts), { maxLineLength: max, stripBom, startOffset, raw: true });
          expect(got.lines.map((l) => Buffer.from(l, 'latin1').toString('hex'))).toEqual(want.lines.map((l) => l.toString('hex')));
          expect(got.nexts).toEqual(want.nexts);
          expect(got.tooLong.map((t) => [t.head.toString('hex'), t.length, t.next])).toEqual(want.tooLong.map((t) => [t.head.toString('hex'), t.length, t.next]));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/**
 * The line rules written the slow, obvious way over the whole input: LF ends a line, a CR right before it is not
 * part of it, empty lines are skipped, a BOM is dropped from the first line only, lines longer than maxLineLength
 * are reported whole with their first bytes.
 */
function reference(data: Buffer, o: { maxLineLength: number; stripBom: boolean; startOffset: number }) {
  const lines: Buffer[] = [];
  const nexts: number[] = [];
  const tooLong: { head: Buffer; length: number; next: number }[] = [];
  let first = true;
  for (let from = 0; from < data.length; ) {
    const nl = data.indexOf(10, from);
    const next = nl < 0 ? data.length : nl + 1;
    let start = from;
    let end = nl < 0 ? data.length : nl;
    if (end > start && data[end - 1] === 13) end--;
    if (first && o.stripBom && end - start >= 3 && data[start] === 0xef && data[start + 1] === 0xbb && data[start + 2] === 0xbf) start += 3;
    first = false;
    if (end - start > o.maxLineLength) tooLong.push({ head: data.subarray(start, Math.min(end, start + TOO_LONG_HEAD_BYTES)), length: end - start, next: o.startOffset + next });
    else if (end > start) {
      lines.push(data.subarray(start, end));
      nexts.push(o.startOffset + next);
    }
    from = next;
  }
  return { lines, nexts, tooLong };
}

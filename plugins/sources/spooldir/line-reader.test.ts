import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineSplitter, TOO_LONG_HEAD_BYTES } from './line-reader.ts';

interface Out {
  lines: string[];
  nexts: number[];
  tooLong: { head: Buffer; length: number; next: number }[];
}

function split(chunks: Buffer[], options: { maxLineLength?: number; stripBom?: boolean; startOffset?: number } = {}): Out {
  const out: Out = { lines: [], nexts: [], tooLong: [] };
  const splitter = new LineSplitter(
    {
      line(buf, start, end, next) {
        out.lines.push(buf.toString('utf8', start, end));
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
      expect(out.tooLong[0]!.length).toBeGreaterThanOrEqual(5000);
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
});

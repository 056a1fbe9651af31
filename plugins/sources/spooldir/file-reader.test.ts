import { promises as fsp } from 'node:fs';
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { recordingSourceContext, type RecordingSourceContext } from '../../../agent/testing/context.ts';
import { LineDecoder } from './decoder.ts';
import { FileReader, type FileReaderOptions } from './file-reader.ts';
import type { Candidate } from './scanner.ts';
import { PositionTracker } from './tracker.ts';

let dir: string;
let tracker: PositionTracker;
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'spooldir-reader-'));
  tracker = await PositionTracker.open(join(dir, '.trk'));
});
afterEach(async () => {
  await tracker.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

function setup(options: Partial<FileReaderOptions> = {}, ctxOptions: { emitDelayMs?: number } = {}) {
  const ctx = recordingSourceContext('spooldir', ctxOptions);
  const decoder = new LineDecoder({ format: 'json', charset: 'utf-8', maxLineLength: 1 << 20, deadLetter: (e, r, d) => ctx.deadLetter(e, r, d) });
  const reader = new FileReader({ batchSize: 10, maxLineLength: 1 << 20, stripBom: true, ...options }, tracker, decoder);
  return { ctx, reader };
}

async function candidate(name: string, content: string | Buffer): Promise<Candidate> {
  const abs = join(dir, name);
  await fsp.writeFile(abs, content);
  const st = await fsp.stat(abs);
  return { abs, rel: name, name, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

const jsonLines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ i: from + i })).join('\n') + '\n';
const ids = (ctx: RecordingSourceContext) => ctx.batches.flat().map((e) => e.data.i as number);

describe('FileReader', () => {
  test('reads in batches across small chunks and leaves the position at the end', async () => {
    const { ctx, reader } = setup({ chunkSize: 64 });
    const file = await candidate('a.json', jsonLines(95));
    expect(await reader.read(file, ctx)).toEqual({ kind: 'done', modified: false, lines: 95 });
    expect(ctx.batches.map((b) => b.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
    expect(ids(ctx)).toEqual([...Array(95).keys()]);
    expect(tracker.position).toMatchObject({ path: 'a.json', offset: file.size, lines: 95 });
  });

  test('an emit failure stops without advancing past the last acknowledged batch; a new read resumes there', async () => {
    const { ctx, reader } = setup();
    const file = await candidate('a.json', jsonLines(35));
    let calls = 0;
    const emit = ctx.emit.bind(ctx);
    const failing = { ...ctx, emit: async (events: Parameters<typeof emit>[0]) => (++calls === 3 ? Promise.reject(new Error('boom')) : emit(events)) };
    const r = await reader.read(file, failing);
    expect(r.kind).toBe('stopped');
    expect(ids(ctx)).toEqual([...Array(20).keys()]);
    expect(tracker.position?.lines).toBe(20);

    const again = setup();
    expect((await again.reader.read(file, again.ctx)).kind).toBe('done');
    expect(ids(again.ctx)).toEqual([...Array(15).keys()].map((i) => i + 20));
  });

  test('resuming a file whose position is already at its end reads nothing', async () => {
    const { ctx, reader } = setup();
    const file = await candidate('a.json', jsonLines(5));
    await reader.read(file, ctx);
    const again = setup();
    expect(await again.reader.read(file, again.ctx)).toEqual({ kind: 'done', modified: false, lines: 5 });
    expect(again.ctx.batches).toEqual([]);
  });

  test('a file that grows while being read is reported as modified after its lines are emitted', async () => {
    const { ctx, reader } = setup({}, { emitDelayMs: 1 });
    const file = await candidate('a.json', jsonLines(30));
    const grow = new Promise<void>((resolve) => {
      const origEmit = ctx.emit;
      let once = false;
      (ctx as { emit: typeof origEmit }).emit = async (events) => {
        if (!once) {
          once = true;
          await fsp.appendFile(file.abs, jsonLines(1, 30));
          resolve();
        }
        return origEmit(events);
      };
    });
    const result = await reader.read(file, ctx);
    await grow;
    expect(result).toMatchObject({ kind: 'done', modified: true });
    expect(ids(ctx)).toEqual([...Array(31).keys()]);
  });

  test('a file listed with another size is skipped until it settles', async () => {
    const { ctx, reader } = setup();
    const file = await candidate('a.json', jsonLines(3));
    expect(await reader.read({ ...file, size: file.size - 1 }, ctx)).toEqual({ kind: 'skipped' });
    expect(await reader.read({ ...file, abs: join(dir, 'gone') }, ctx)).toEqual({ kind: 'skipped' });
    expect(tracker.position).toBeNull();
  });

  test('a file of only bad lines records its progress without any emit', async () => {
    const { ctx, reader } = setup();
    const file = await candidate('bad.json', 'nope\n{\n\n7\n');
    expect(await reader.read(file, ctx)).toMatchObject({ kind: 'done', lines: 3 });
    expect(ctx.batches).toEqual([]);
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(['malformed-json', 'malformed-json', 'not-an-object']);
    expect(tracker.position?.offset).toBe(file.size);
  });

  test('reading a directory reports it as unreadable', async () => {
    const { ctx, reader } = setup();
    await fsp.mkdir(join(dir, 'd'));
    const st = await fsp.stat(join(dir, 'd'));
    const r = await reader.read({ abs: join(dir, 'd'), rel: 'd', name: 'd', size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev }, ctx);
    expect(r.kind === 'unreadable' || r.kind === 'skipped').toBe(true);
  });

  test('property: a file of random lines read in random chunk sizes yields exactly its lines, decoded, in order', async () => {
    // Multi-byte characters cut by every chunk size, CRLF and LF, a BOM, invalid UTF-8 and lines over the limit.
    const line = fc.array(fc.constantFrom('a', 'é', '€', '😀', '\r', ' ', '\ufffd', '\xff'), { maxLength: 30 }).map((cs) => cs.join(''));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(line, fc.boolean()), { maxLength: 25 }), fc.boolean(), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 7 }), async (items, bom, chunkSize, batchSize) => {
        const max = 40;
        const ctx = recordingSourceContext('spooldir');
        const decoder = new LineDecoder({ format: 'text', charset: 'utf-8', maxLineLength: max, deadLetter: (e, r, d) => ctx.deadLetter(e, r, d) });
        const reader = new FileReader({ batchSize, maxLineLength: max, stripBom: true, chunkSize }, tracker, decoder);
        // '\xff' stands for the invalid byte 0xff; the rest is UTF-8.
        const encode = (s: string) => Buffer.concat(s.split('\xff').flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [Buffer.from([0xff]), Buffer.from(part)])));
        const body = Buffer.concat(items.map(([l, crlf]) => Buffer.concat([encode(l), Buffer.from(crlf ? '\r\n' : '\n')])));
        const file = await candidate(`p${n++}.txt`, bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body);
        // A line is what stands before its \n, less one \r right before it (the line's own or the CRLF's).
        const texts = items.map(([l, crlf]) => (crlf ? `${l}\r` : l).replace(/\r$/, ''));
        expect(await reader.read(file, ctx)).toEqual({ kind: 'done', modified: false, lines: texts.filter((t) => t !== '').length });
        const want = { good: [] as string[], bad: [] as string[] };
        for (const text of texts) {
          const bytes = encode(text);
          if (text === '') continue;
          if (bytes.length > max) want.bad.push('line-too-long');
          else if (text.includes('\xff')) want.bad.push('invalid-encoding');
          else want.good.push(text);
        }
        expect(ctx.batches.flat().map((e) => e.text)).toEqual(want.good);
        expect(ctx.batches.every((b) => b.length <= batchSize)).toBe(true);
        expect(ctx.deadLetters.map((d) => d.reason)).toEqual(want.bad);
        expect(tracker.position?.offset).toBe(file.size);
      }),
      { numRuns: 150 },
    );
  });
});

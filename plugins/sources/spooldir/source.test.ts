/**
 * End-to-end behaviour of the spooldir source, driven through the plugin definition with a recording context.
 * Tests poll for outcomes and never assert on durations.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { StoppingError, type Source } from '../../../agent/index.ts';
import { recordingSourceContext, type RecordingSourceContext } from '../../../agent/testing/context.ts';
import plugin, { type SpoolDirConfig } from '../spooldir.ts';
import { PositionTracker } from './tracker.ts';

const fsp = fs.promises;

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((ajvFormats as unknown as { default: AddFormats & { default?: AddFormats } }).default.default ??
  (ajvFormats as unknown as { default: AddFormats }).default);
const ajv = new Ajv({ useDefaults: true, strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(plugin.schema);

let root: string;
let spool: string;
const running: Running[] = [];

beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'spooldir-src-'));
  spool = join(root, 'spool');
  await fsp.mkdir(spool);
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const r of running.splice(0)) await r.stop();
  await fsp.rm(root, { recursive: true, force: true });
});

/** The config as the framework would hand it over: validated, defaults filled, frozen. */
function config(overrides: Partial<Record<keyof SpoolDirConfig, unknown>> = {}): SpoolDirConfig {
  const cfg: Record<string, unknown> = { spoolDir: 'spool', pollDelay: 20, fileStableMs: 0, ...overrides };
  if (!validate(cfg)) throw new Error(ajv.errorsText(validate.errors));
  return Object.freeze(cfg) as unknown as SpoolDirConfig;
}

interface Running {
  ctx: RecordingSourceContext;
  source: Source;
  done: Promise<void>;
  stop(): Promise<void>;
}

async function start(overrides: Partial<Record<keyof SpoolDirConfig, unknown>> = {}, ctxOptions: { emitDelayMs?: number } = {}): Promise<Running> {
  const ctx = recordingSourceContext('spooldir', { configDir: root, ...ctxOptions });
  const source = await plugin.create(config(overrides), ctx);
  const done = source.run(ctx);
  let stopped = false;
  const r: Running = {
    ctx,
    source,
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      ctx.controller.abort();
      await done;
      await source.close?.();
    },
  };
  running.push(r);
  return r;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const events = (ctx: RecordingSourceContext) => ctx.batches.flat();
const jsonLines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ i: from + i, pad: 'x'.repeat(20) })).join('\n') + '\n';
const ids = (ctx: RecordingSourceContext) => events(ctx).map((e) => e.data.i as number);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const listing = async (dir = spool) => (await fsp.readdir(dir)).filter((n) => !n.startsWith('.')).sort();
const exists = (p: string) => fsp.stat(p).then(() => true, () => false);
const quarantined = async () => (await fsp.readdir(join(spool, '.flumespool', 'quarantine')).catch(() => [] as string[])).sort();

describe('spooldir source', () => {
  test('a 10k-line file is delivered exactly once, in order, then renamed', async () => {
    await fsp.writeFile(join(spool, 'big.json'), jsonLines(10_000));
    const r = await start();
    await until('the file to complete', async () => exists(join(spool, 'big.json.COMPLETED')));
    await r.stop();
    expect(ids(r.ctx)).toEqual(range(10_000));
    expect(r.ctx.batches.every((b) => b.length <= 100)).toBe(true);
    expect(r.ctx.deadLetters).toEqual([]);
    expect(await listing()).toEqual(['big.json.COMPLETED']);
    expect(r.ctx.stats.get('files_completed_total')).toBe(1);
    expect(events(r.ctx)[0]!.hasData).toBe(true);
  });

  test('CRLF, a BOM and empty lines', async () => {
    await fsp.writeFile(join(spool, 'crlf.json'), '\ufeff{"i":0}\r\n\r\n\n{"i":1}\r\n{"i":2}');
    const r = await start();
    await until('3 events', () => events(r.ctx).length === 3);
    expect(ids(r.ctx)).toEqual([0, 1, 2]);
    expect(events(r.ctx).map((e) => e.text)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
  });

  test('malformed JSON, non-objects and invalid UTF-8 go to dead letters while good lines flow', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"i":0}\n{"i":\n42\n'),
      Buffer.from([0x7b, 0x22, 0x69, 0x22, 0x3a, 0xff, 0x7d, 0x0a]),
      Buffer.from('{"i":1}\n'),
    ]);
    await fsp.writeFile(join(spool, 'mixed.json'), bad);
    const r = await start();
    await until('the file to complete', () => exists(join(spool, 'mixed.json.COMPLETED')));
    expect(ids(r.ctx)).toEqual([0, 1]);
    expect(r.ctx.deadLetters.map((d) => d.reason)).toEqual(['malformed-json', 'not-an-object', 'invalid-encoding']);
    expect(r.ctx.deadLetters[0]!.event.text).toBe('{"i":');
  });

  test('binary content never crashes: its lines are dead-lettered and the file completes', async () => {
    const binary = Buffer.alloc(200_000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919 + 13) % 256;
    await fsp.writeFile(join(spool, 'blob.bin'), binary);
    await fsp.writeFile(join(spool, 'z.json'), '{"i":7}\n');
    const r = await start({ maxLineLength: 512 });
    await until('both files to complete', async () => (await listing()).every((n) => n.endsWith('.COMPLETED')));
    expect(ids(r.ctx)).toEqual([7]);
    expect(r.ctx.deadLetters.length).toBeGreaterThan(0);
  });

  test('an over-long line goes to dead letters as line-too-long, truncated, never split', async () => {
    await fsp.writeFile(join(spool, 'long.json'), `{"i":0}\n{"s":"${'y'.repeat(5000)}"}\n{"i":1}\n`);
    const r = await start({ maxLineLength: 2000 });
    await until('the file to complete', () => exists(join(spool, 'long.json.COMPLETED')));
    expect(ids(r.ctx)).toEqual([0, 1]);
    expect(r.ctx.deadLetters).toHaveLength(1);
    expect(r.ctx.deadLetters[0]!.reason).toBe('line-too-long');
    expect(r.ctx.deadLetters[0]!.event.bytes.length).toBe(1024);
  });

  test('text format, file and basename headers', async () => {
    await fsp.writeFile(join(spool, 'a.log'), 'hello\nworld\n');
    const r = await start({ format: 'text', fileHeader: true, basenameHeader: true, basenameHeaderKey: 'name' });
    await until('2 events', () => events(r.ctx).length === 2);
    expect(events(r.ctx).map((e) => e.text)).toEqual(['hello', 'world']);
    expect(events(r.ctx)[0]!.headers).toEqual({ file: join(spool, 'a.log'), name: 'a.log' });
  });

  test('an empty file is just completed', async () => {
    await fsp.writeFile(join(spool, 'empty.json'), '');
    const r = await start();
    await until('the file to complete', () => exists(join(spool, 'empty.json.COMPLETED')));
    expect(r.ctx.batches).toEqual([]);
  });

  test('deletePolicy immediate deletes files once acknowledged', async () => {
    await fsp.writeFile(join(spool, 'a.json'), jsonLines(250));
    const r = await start({ deletePolicy: 'immediate' });
    await until('the file to be deleted', async () => (await listing()).length === 0);
    expect(ids(r.ctx)).toEqual(range(250));
  });

  test('include and ignore patterns', async () => {
    await fsp.writeFile(join(spool, 'a.json'), '{"i":1}\n');
    await fsp.writeFile(join(spool, 'b.txt'), '{"i":2}\n');
    await fsp.writeFile(join(spool, 'c-skip.json'), '{"i":3}\n');
    const r = await start({ includePattern: '\\.json$', ignorePattern: 'skip' });
    await until('a.json to complete', () => exists(join(spool, 'a.json.COMPLETED')));
    await r.stop();
    expect(ids(r.ctx)).toEqual([1]);
    expect(await listing()).toEqual(['a.json.COMPLETED', 'b.txt', 'c-skip.json']);
  });

  test('oldest files first, and subdirectories with recursiveDirectorySearch', async () => {
    await fsp.mkdir(join(spool, 'sub'));
    const files: [string, number][] = [['sub/n2', 2000], ['n3', 3000], ['n1', 1000]];
    for (const [name, mtime] of files) {
      await fsp.writeFile(join(spool, name), `{"i":${mtime}}\n`);
      await fsp.utimes(join(spool, name), mtime, mtime);
    }
    const r = await start({ recursiveDirectorySearch: true });
    await until('3 events', () => events(r.ctx).length === 3);
    expect(ids(r.ctx)).toEqual([1000, 2000, 3000]);
  });

  test('resumes from the durable position after an emit failure, without loss or duplicates', async () => {
    await fsp.writeFile(join(spool, 'a.json'), jsonLines(3000));
    const first = await start({ batchSize: 50 }, { emitDelayMs: 5 });
    await until('some batches', () => first.ctx.batches.length >= 5);
    first.ctx.failNext(1);
    await first.done; // an emit failure ends run() by itself
    const delivered = ids(first.ctx);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThan(3000);
    await first.stop();

    const second = await start({ batchSize: 50 });
    await until('the file to complete', () => exists(join(spool, 'a.json.COMPLETED')));
    expect([...delivered, ...ids(second.ctx)]).toEqual(range(3000));
  });

  test('resumes after an abort (a stop) mid-file', async () => {
    await fsp.writeFile(join(spool, 'a.json'), jsonLines(3000));
    const first = await start({ batchSize: 50 }, { emitDelayMs: 5 });
    await until('some batches', () => first.ctx.batches.length >= 3);
    await first.stop();
    const delivered = ids(first.ctx);
    expect(delivered.length).toBeLessThan(3000);
    const second = await start({ batchSize: 50 });
    await until('the file to complete', () => exists(join(spool, 'a.json.COMPLETED')));
    expect([...delivered, ...ids(second.ctx)]).toEqual(range(3000));
  });

  test('a StoppingError from emit ends run() without advancing the position', async () => {
    await fsp.writeFile(join(spool, 'a.json'), jsonLines(10));
    const ctx = recordingSourceContext('spooldir', { configDir: root });
    const source = await plugin.create(config(), ctx);
    await source.run({ ...ctx, emit: () => Promise.reject(new StoppingError()) });
    await source.close?.();
    const tracker = await PositionTracker.open(join(spool, '.flumespool'));
    expect(tracker.position).toMatchObject({ path: 'a.json', offset: 0 });
    await tracker.close();
    expect(await listing()).toEqual(['a.json']);
  });

  test('a file fully acknowledged before a crash is completed on restart without being re-read', async () => {
    const content = jsonLines(20);
    await fsp.writeFile(join(spool, 'a.json'), content);
    const st = await fsp.stat(join(spool, 'a.json'));
    const tracker = await PositionTracker.open(join(spool, '.flumespool'));
    tracker.save({ path: 'a.json', ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs, offset: st.size, lines: 20 });
    await tracker.close();
    const r = await start();
    await until('the file to complete', () => exists(join(spool, 'a.json.COMPLETED')));
    expect(r.ctx.batches).toEqual([]);
  });

  test('a reused name is quarantined without being read', async () => {
    await fsp.writeFile(join(spool, 'a.json.COMPLETED'), '{"i":0}\n');
    await fsp.writeFile(join(spool, 'a.json'), '{"i":1}\n');
    const r = await start();
    await until('a quarantined file', async () => (await quarantined()).length === 1);
    expect((await quarantined())[0]).toMatch(/^a\.json\.\d+$/);
    expect(r.ctx.stats.get('files_quarantined_total')).toBe(1);
    await r.stop();
    expect(r.ctx.batches).toEqual([]);
    expect(await listing()).toEqual(['a.json.COMPLETED']);
  });

  test('a file modified after being read is quarantined once its lines were emitted', async () => {
    const abs = join(spool, 'a.json');
    await fsp.writeFile(abs, jsonLines(30));
    const ctx = recordingSourceContext('spooldir', { configDir: root });
    const source = await plugin.create(config({ batchSize: 10 }), ctx);
    let appended = false;
    const done = source.run({
      ...ctx,
      async emit(batch) {
        if (!appended) {
          appended = true;
          await fsp.appendFile(abs, jsonLines(1, 30));
        }
        return ctx.emit(batch);
      },
    });
    running.push({ ctx, source, done, stop: async () => { ctx.controller.abort(); await done; await source.close?.(); } });
    await until('a quarantined file', async () => (await quarantined()).length === 1);
    expect(ids(ctx)).toEqual(range(31));
    expect(ctx.stats.get('files_quarantined_total')).toBe(1);
    expect(await listing()).toEqual([]);
  });

  test('a symlink leading outside the spool directory is never read', async () => {
    await fsp.writeFile(join(root, 'secret.json'), '{"i":666}\n');
    await fsp.symlink(join(root, 'secret.json'), join(spool, 'link.json'));
    await fsp.writeFile(join(spool, 'ok.json'), '{"i":1}\n');
    const r = await start();
    await until('ok.json to complete and the link to be quarantined', async () =>
      (await exists(join(spool, 'ok.json.COMPLETED'))) && (await quarantined()).length === 1);
    expect(ids(r.ctx)).toEqual([1]);
    expect(await fsp.readFile(join(root, 'secret.json'), 'utf8')).toBe('{"i":666}\n');
    expect(r.ctx.stats.get('files_quarantined_total')).toBe(1);
  });

  test('a symlink to a file inside the spool directory is read once and renamed', async () => {
    await fsp.mkdir(join(spool, 'store'));
    await fsp.writeFile(join(spool, 'store', 'target.json'), '{"i":5}\n');
    await fsp.symlink(join(spool, 'store', 'target.json'), join(spool, 'link.json'));
    await fsp.writeFile(join(spool, 'z.json'), '{"i":6}\n');
    await fsp.utimes(join(spool, 'z.json'), Date.now() / 1000 + 60, Date.now() / 1000 + 60);
    const r = await start();
    await until('both to complete', async () => (await exists(join(spool, 'link.json.COMPLETED'))) && (await exists(join(spool, 'z.json.COMPLETED'))));
    expect(ids(r.ctx)).toEqual([5, 6]);
    expect(await fsp.readFile(join(spool, 'store', 'target.json'), 'utf8')).toBe('{"i":5}\n');
  });

  test('a modified file that cannot be quarantined is never read again', async () => {
    await fsp.mkdir(join(spool, '.flumespool'));
    await fsp.writeFile(join(spool, '.flumespool', 'quarantine'), 'not a directory');
    const abs = join(spool, 'a.json');
    await fsp.writeFile(abs, jsonLines(30));
    await fsp.utimes(abs, 1000, 1000);
    const ctx = recordingSourceContext('spooldir', { configDir: root });
    const source = await plugin.create(config({ batchSize: 10 }), ctx);
    let appended = false;
    const done = source.run({
      ...ctx,
      async emit(batch) {
        if (!appended) {
          appended = true;
          await fsp.appendFile(abs, jsonLines(1, 30));
          await fsp.utimes(abs, 1000, 1000);
        }
        return ctx.emit(batch);
      },
    });
    running.push({ ctx, source, done, stop: async () => { ctx.controller.abort(); await done; await source.close?.(); } });
    await until('the first file to be read', () => events(ctx).length === 31);
    // A later file completing proves that full scans went by with a.json still in the directory.
    await fsp.writeFile(join(spool, 'b.json'), '{"i":100}\n');
    await until('b.json to complete', () => exists(join(spool, 'b.json.COMPLETED')));
    expect(ids(ctx)).toEqual([...range(31), 100]);
    expect(await listing()).toEqual(['a.json', 'b.json.COMPLETED']);
    expect(ctx.stats.get('files_quarantined_total')).toBe(1);
  });

  test('a file still being written is not read until it settles', async () => {
    const abs = join(spool, 'growing.json');
    await fsp.writeFile(abs, jsonLines(1));
    const r = await start({ fileStableMs: 1000 });
    for (let i = 1; i < 10; i++) {
      await new Promise((res) => setTimeout(res, 40));
      expect(r.ctx.batches).toEqual([]);
      await fsp.appendFile(abs, jsonLines(1, i));
    }
    await until('the file to complete', () => exists(join(spool, 'growing.json.COMPLETED')));
    expect(ids(r.ctx)).toEqual(range(10));
    expect(await quarantined()).toEqual([]);
  });

  test('the watcher picks up new files without waiting for the poll', async () => {
    const r = await start({ pollDelay: '10m' });
    // The watcher needs a moment to start; keep dropping files until one is noticed (the poll never runs).
    for (let i = 0; events(r.ctx).length === 0; i++) {
      if (i === 100) throw new Error('no file was picked up by the watcher');
      await fsp.writeFile(join(spool, `.a${i}.json.tmp`), jsonLines(5));
      await fsp.rename(join(spool, `.a${i}.json.tmp`), join(spool, `a${i}.json`));
      await until('a file', () => events(r.ctx).length > 0, 300).catch(() => {});
    }
    await until('5 events', () => events(r.ctx).length >= 5);
  });

  test('an unreadable file is counted, retried later, and does not stop other files', async () => {
    const locked = join(spool, 'locked.json');
    await fsp.writeFile(locked, '{"i":1}\n');
    await fsp.utimes(locked, 1000, 1000);
    await fsp.writeFile(join(spool, 'other.json'), '{"i":2}\n');
    let release: () => Promise<void>;
    if (process.getuid?.() === 0) {
      // Root reads through chmod 000, so the permission error is simulated at open().
      const realOpen = fs.promises.open;
      const spy = vi.spyOn(fs.promises, 'open').mockImplementation(((path: fs.PathLike, ...rest: unknown[]) => {
        if (String(path) === locked) return Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${locked}'`), { code: 'EACCES' }));
        return (realOpen as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
      }) as typeof fs.promises.open);
      release = async () => void spy.mockRestore();
    } else {
      await fsp.chmod(locked, 0o000);
      release = () => fsp.chmod(locked, 0o644);
    }
    const r = await start();
    await until('other.json to complete', () => exists(join(spool, 'other.json.COMPLETED')));
    await until('two failed attempts', () => r.ctx.stats.get('read_failures_total') >= 2);
    expect(ids(r.ctx)).toEqual([2]);
    await release();
    await until('locked.json to complete', () => exists(join(spool, 'locked.json.COMPLETED')));
    expect(ids(r.ctx)).toEqual([2, 1]);
  });

  test('run() returns promptly on abort while idle and while reading, and can run again', async () => {
    const idle = await start();
    await new Promise((res) => setTimeout(res, 50));
    await idle.stop();
    await fsp.writeFile(join(spool, 'a.json'), jsonLines(100_000));
    const busy = await start({}, { emitDelayMs: 5 });
    await until('a batch', () => busy.ctx.batches.length > 0);
    await busy.stop();
    expect(ids(busy.ctx).length).toBeLessThan(100_000);
  });

  test('a missing spool directory makes run() reject with a clear error', async () => {
    const ctx = recordingSourceContext('spooldir', { configDir: root });
    const source = await plugin.create(config({ spoolDir: 'nope' }), ctx);
    await expect(source.run(ctx)).rejects.toMatchObject({ code: 'FTA_SOURCE_READ', message: expect.stringContaining('nope') });
    await source.close?.();
  });
});

import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isInside, order, Scanner, type Candidate, type ScannerOptions } from './scanner.ts';

let root: string;
let spool: string;
let rejected: { abs: string; reason: string }[];

beforeEach(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'spooldir-scan-'));
  spool = join(root, 'spool');
  await fsp.mkdir(spool);
  rejected = [];
});
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

function scanner(overrides: Partial<ScannerOptions> = {}): Scanner {
  return new Scanner({
    spoolDir: spool,
    trackerDir: join(spool, '.flumespool'),
    fileSuffix: '.COMPLETED',
    include: /^.*$/,
    ignore: /^$/,
    recursive: false,
    fileStableMs: 0,
    order: 'oldest',
    onReject: async (abs, reason) => void rejected.push({ abs, reason }),
    ...overrides,
  });
}

async function put(name: string, content = 'x\n', mtimeSec?: number): Promise<string> {
  const abs = join(spool, name);
  await fsp.writeFile(abs, content);
  if (mtimeSec !== undefined) await fsp.utimes(abs, mtimeSec, mtimeSec);
  return abs;
}

const names = (files: Candidate[]) => files.map((f) => f.rel);

describe('Scanner', () => {
  test('skips hidden files, completed files, the tracker dir, directories and non-matching names', async () => {
    await put('a.json');
    await put('.a.json.tmp');
    await put('b.json.COMPLETED');
    await put('c.log');
    await put('d.skip.json');
    await fsp.mkdir(join(spool, '.flumespool'));
    await fsp.writeFile(join(spool, '.flumespool', 'position.meta'), '');
    await fsp.mkdir(join(spool, 'sub.json'));
    await fsp.writeFile(join(spool, 'sub.json', 'inner.json'), 'x\n');
    execFileSync('mkfifo', [join(spool, 'pipe.json')]);
    const { ready } = await scanner({ include: /\.json$/, ignore: /skip/ }).scan();
    expect(names(ready)).toEqual(['a.json']);
    expect(rejected).toEqual([]);
  });

  test('recursive search descends into subdirectories but not hidden ones', async () => {
    await fsp.mkdir(join(spool, 'd1', 'd2'), { recursive: true });
    await fsp.mkdir(join(spool, '.hidden'));
    await put('top', 'x', 100);
    await put('d1/mid', 'x', 200);
    await put('d1/d2/deep', 'x', 300);
    await put('.hidden/no', 'x', 400);
    expect(names((await scanner({ recursive: true }).scan()).ready)).toEqual(['top', join('d1', 'mid'), join('d1', 'd2', 'deep')]);
    expect(names((await scanner().scan()).ready)).toEqual(['top']);
  });

  test('orders oldest or youngest first by mtime, ties by name', async () => {
    await put('b', 'x', 1000);
    await put('a', 'x', 1000);
    await put('c', 'x', 500);
    await put('d', 'x', 2000);
    expect(names((await scanner().scan()).ready)).toEqual(['c', 'a', 'b', 'd']);
    expect(names((await scanner({ order: 'youngest' }).scan()).ready)).toEqual(['d', 'a', 'b', 'c']);
    expect(names((await scanner({ order: 'random' }).scan()).ready).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a file is ready only after its size and mtime settled for fileStableMs', async () => {
    const s = scanner({ fileStableMs: 1000 });
    const abs = await put('growing', 'x\n');
    const t0 = (await fsp.stat(abs)).mtimeMs;
    expect((await s.scan(t0 + 10)).waiting).toBe(1);
    await fsp.appendFile(abs, 'y\n');
    await fsp.utimes(abs, (t0 + 500) / 1000, (t0 + 500) / 1000);
    const second = await s.scan(t0 + 600);
    expect(second).toMatchObject({ ready: [], waiting: 1 });
    expect(names((await s.scan(t0 + 1500)).ready)).toEqual(['growing']);
    // An old file moved in is ready at once.
    await put('old', 'x\n', 1000);
    expect(names((await scanner({ fileStableMs: 1000 }).scan()).ready)).toContain('old');
  });

  test('a file whose mtime is in the future settles by our own observation', async () => {
    const s = scanner({ fileStableMs: 1000 });
    const future = Date.now() / 1000 + 3600;
    await put('future', 'x', future);
    const now = Date.now();
    expect((await s.scan(now)).ready).toEqual([]);
    expect(names((await s.scan(now + 1000)).ready)).toEqual(['future']);
  });

  test('a name whose completed twin exists is rejected as name-reused without being listed', async () => {
    await put('a.json');
    await put('a.json.COMPLETED');
    const { ready } = await scanner().scan();
    expect(ready).toEqual([]);
    expect(rejected).toEqual([{ abs: join(spool, 'a.json'), reason: 'name-reused' }]);
  });

  test('symlinks: inside the spool dir are read through, outside are rejected, dangling are skipped', async () => {
    await fsp.mkdir(join(spool, 'real'));
    await fsp.writeFile(join(spool, 'real', 'target'), 'x\n');
    await fsp.writeFile(join(root, 'secret'), 'x\n');
    await fsp.symlink(join(spool, 'real', 'target'), join(spool, 'inside'));
    await fsp.symlink(join(root, 'secret'), join(spool, 'outside'));
    await fsp.symlink('../spool/../secret', join(spool, 'relative-outside'));
    await fsp.symlink(join(root, 'missing'), join(spool, 'dangling'));
    await fsp.symlink(join(spool, 'real'), join(spool, 'dirlink'));
    const { ready } = await scanner().scan();
    expect(names(ready)).toEqual(['inside']);
    expect(rejected.map((r) => r.reason)).toEqual(['outside-spool-dir', 'outside-spool-dir']);
    expect(rejected.map((r) => r.abs).sort()).toEqual([join(spool, 'outside'), join(spool, 'relative-outside')]);
  });

  test('a missing spool directory is an error', async () => {
    await expect(scanner({ spoolDir: join(root, 'nope') }).scan()).rejects.toThrow(/ENOENT/);
  });

  test('helpers', () => {
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/b')).toBe(false);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a/b/..x')).toBe(true);
    const f = (rel: string, mtimeMs: number) => ({ abs: rel, rel, name: rel, size: 0, mtimeMs, ino: 0, dev: 0 });
    expect(names(order([f('b', 1), f('a', 1), f('c', 0)], 'oldest'))).toEqual(['c', 'a', 'b']);
  });
});

import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { testContext } from '../../../agent/testing/context.ts';
import { Disposer, type DisposerOptions } from './disposer.ts';

let spool: string;
beforeEach(async () => {
  spool = await fsp.mkdtemp(join(tmpdir(), 'spooldir-dispose-'));
});
afterEach(async () => {
  await fsp.rm(spool, { recursive: true, force: true });
});

function disposer(options: Partial<DisposerOptions> = {}) {
  const ctx = testContext('source', 'spooldir');
  const d = new Disposer({ trackerDir: join(spool, '.flumespool'), fileSuffix: '.COMPLETED', deletePolicy: 'never', ...options }, ctx);
  return { d, stats: ctx.stats };
}

async function put(name: string): Promise<{ abs: string; ino: number }> {
  const abs = join(spool, name);
  await fsp.writeFile(abs, 'x\n');
  return { abs, ino: (await fsp.stat(abs)).ino };
}

describe('Disposer', () => {
  test('complete renames with the suffix and counts', async () => {
    const { d, stats } = disposer();
    const f = await put('a.json');
    expect(await d.complete(f.abs, f.ino)).toBe('completed');
    expect(await fsp.readdir(spool)).toEqual(['a.json.COMPLETED']);
    expect(stats.get('files_completed_total')).toBe(1);
  });

  test('deletePolicy immediate deletes', async () => {
    const { d } = disposer({ deletePolicy: 'immediate' });
    const f = await put('a.json');
    expect(await d.complete(f.abs, f.ino)).toBe('completed');
    expect(await fsp.readdir(spool)).toEqual([]);
  });

  test('never overwrites an existing completed file: the new one is quarantined as name-reused', async () => {
    const { d, stats } = disposer();
    const f = await put('a.json');
    await fsp.writeFile(join(spool, 'a.json.COMPLETED'), 'older\n');
    expect(await d.complete(f.abs, f.ino)).toBe('quarantined');
    expect(await fsp.readFile(join(spool, 'a.json.COMPLETED'), 'utf8')).toBe('older\n');
    const q = await fsp.readdir(d.quarantineDir);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatch(/^a\.json\.\d+$/);
    expect(stats.get('files_quarantined_total')).toBe(1);
    expect(stats.get('files_completed_total')).toBe(0);
  });

  test('a path now naming another file is left alone', async () => {
    const { d } = disposer();
    const f = await put('a.json');
    await fsp.rm(f.abs);
    await put('a.json');
    const replaced = { ...f, ino: f.ino + 1_000_000 };
    expect(await d.complete(f.abs, replaced.ino)).toBe('gone');
    expect(await d.quarantine(f.abs, 'modified-after-read', replaced.ino)).toBe(false);
    expect(await fsp.readdir(spool)).toEqual(['a.json']);
  });

  test('quarantine picks a free name when two files collide in the same millisecond', async () => {
    const { d } = disposer();
    await fsp.mkdir(join(spool, 'x'));
    const a = await put('a.json');
    const b = await put(join('x', 'a.json'));
    expect(await d.quarantine(a.abs, 'name-reused')).toBe(true);
    expect(await d.quarantine(b.abs, 'name-reused')).toBe(true);
    expect(await fsp.readdir(d.quarantineDir)).toHaveLength(2);
  });

  test('a file that vanished is "gone", not an error', async () => {
    const { d, stats } = disposer();
    expect(await d.complete(join(spool, 'nope'), 1)).toBe('gone');
    expect(await d.quarantine(join(spool, 'nope'), 'name-reused')).toBe(false);
    expect(stats.get('files_quarantined_total')).toBe(0);
  });

  test('a file that cannot be moved is counted once and reported as failed', async () => {
    // A quarantine "directory" that is a file makes the move fail whatever the user (root included).
    await fsp.mkdir(join(spool, '.flumespool'));
    await fsp.writeFile(join(spool, '.flumespool', 'quarantine'), '');
    const { d, stats } = disposer();
    const f = await put('a.json');
    expect(await d.quarantine(f.abs, 'outside-spool-dir')).toBe(false);
    expect(await d.quarantine(f.abs, 'outside-spool-dir')).toBe(false);
    expect(stats.get('files_quarantined_total')).toBe(1);
  });
});

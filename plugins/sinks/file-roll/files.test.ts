import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { finalName, finalizeTemp, recoverTemps, tempName, trimTornTail } from './files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-roll-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('file_roll file names and recovery', () => {
  test('names: <prefix><startMillis>-<n>.<ext>, hidden .tmp while open', () => {
    expect(finalName({ prefix: 'events-', extension: 'jsonl' }, 1700000000000, 3)).toBe('events-1700000000000-3.jsonl');
    expect(finalName({ prefix: 'tx_', extension: '' }, 5, 1)).toBe('tx_5-1');
    expect(tempName('events-5-1.log')).toBe('.events-5-1.log.tmp');
  });

  test('trimTornTail keeps whole lines only', async () => {
    const path = join(dir, 'f');
    const cases: [string, string][] = [
      ['a\nb\n', 'a\nb\n'],
      ['a\nb\npart', 'a\nb\n'],
      ['no newline at all', ''],
      ['', ''],
    ];
    for (const [content, kept] of cases) {
      await writeFile(path, content);
      expect(await trimTornTail(path)).toBe(Buffer.byteLength(kept));
      expect(await readFile(path, 'utf8')).toBe(kept);
    }
  });

  test('trimTornTail finds the last newline across read chunks', async () => {
    const path = join(dir, 'big');
    const whole = 'x'.repeat(100) + '\n';
    await writeFile(path, whole + 'y'.repeat(200_000));
    expect(await trimTornTail(path)).toBe(whole.length);
    expect(await readFile(path, 'utf8')).toBe(whole);
  });

  test('finalizeTemp renames data and deletes an empty file', async () => {
    await writeFile(join(dir, '.a.tmp'), 'x\n');
    await writeFile(join(dir, '.b.tmp'), '');
    expect(await finalizeTemp(join(dir, '.a.tmp'), join(dir, 'a'), 2)).toBe('renamed');
    expect(await finalizeTemp(join(dir, '.b.tmp'), join(dir, 'b'))).toBe('deleted');
    expect(await readdir(dir)).toEqual(['a']);
  });

  test('recoverTemps finalizes only this sink\'s temporaries', async () => {
    const files: Record<string, string> = {
      '.events-100-1.jsonl.tmp': '{"a":1}\n{"a":2}\n',
      '.events-100-2.jsonl.tmp': '',
      '.events-101-1.jsonl.tmp': '{"a":3}\n{"a":',
      '.other-100-1.jsonl.tmp': 'someone else\n',
      '.events-100-1.log.tmp': 'other extension\n',
      'events-99-1.jsonl': 'already final\n',
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const result = await recoverTemps(dir, { prefix: 'events-', extension: 'jsonl' });
    expect(result).toEqual({ renamed: ['events-100-1.jsonl', 'events-101-1.jsonl'], deleted: ['events-100-2.jsonl'] });
    expect((await readdir(dir)).sort()).toEqual(
      ['.events-100-1.log.tmp', '.other-100-1.jsonl.tmp', 'events-100-1.jsonl', 'events-101-1.jsonl', 'events-99-1.jsonl'],
    );
    expect(await readFile(join(dir, 'events-101-1.jsonl'), 'utf8')).toBe('{"a":3}\n');
  });
});

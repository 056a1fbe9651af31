import { closeSync, openSync, promises as fsp, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LOCK_FILE, POSITION_FILE, PositionTracker, readSlots, SLOT_SIZE, type Position } from './tracker.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'spooldir-tracker-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const pos = (offset: number): Position => ({ path: 'sub/a.json', ino: 11, dev: 22, size: 1000, mtimeMs: 1.5, offset, lines: offset / 10 });

function readFile(trackerDir = dir): ReturnType<typeof readSlots> {
  const fd = openSync(join(trackerDir, POSITION_FILE), 'r');
  try {
    return readSlots(fd);
  } finally {
    closeSync(fd);
  }
}

describe('PositionTracker', () => {
  test('a fresh tracker has no position; saved positions survive a reopen', async () => {
    const t = await PositionTracker.open(join(dir, 'trk'));
    expect(t.position).toBeNull();
    t.save(pos(0));
    t.advance(100, 10);
    t.advance(200, 20);
    await t.close();
    const again = await PositionTracker.open(join(dir, 'trk'));
    expect(again.position).toEqual(pos(200));
    again.clear();
    await again.close();
    const third = await PositionTracker.open(join(dir, 'trk'));
    expect(third.position).toBeNull();
    await third.close();
  });

  test('the file has two fixed slots and stays small', async () => {
    const t = await PositionTracker.open(join(dir, 'x'));
    for (let i = 0; i < 1000; i++) t.save(pos(i * 10));
    await t.close();
    expect((await fsp.stat(join(dir, 'x', POSITION_FILE))).size).toBeLessThanOrEqual(2 * SLOT_SIZE);
    expect(readFile(join(dir, 'x')).position).toEqual(pos(9990));
  });

  test('a torn write of the newest slot falls back to the previous position', async () => {
    const t = await PositionTracker.open(dir);
    t.save(pos(100));
    t.advance(200, 20); // seq 2 → slot 0
    await t.close();
    const fd = openSync(join(dir, POSITION_FILE), 'r+');
    writeSync(fd, Buffer.from('garbage'), 0, 7, 30); // inside slot 0's payload
    closeSync(fd);
    const back = readFile();
    expect(back.position).toEqual(pos(100));
    // The next write goes to the damaged slot, and wins.
    const t2 = await PositionTracker.open(dir);
    expect(t2.position).toEqual(pos(100));
    t2.advance(300, 30);
    await t2.close();
    expect(readFile().position?.offset).toBe(300);
  });

  test('a second tracker on the same directory is refused while the first holds the lock', async () => {
    const t = await PositionTracker.open(dir);
    await expect(PositionTracker.open(dir)).rejects.toMatchObject({ code: 'FTA_DIRECTORY_LOCKED' });
    await t.close();
    const t2 = await PositionTracker.open(dir);
    await t2.close();
  });

  test('a lock left by a dead process is taken over', async () => {
    await fsp.writeFile(join(dir, LOCK_FILE), '999999999\n');
    const t = await PositionTracker.open(dir);
    expect((await fsp.readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await t.close();
    await expect(fsp.stat(join(dir, LOCK_FILE))).rejects.toThrow();
  });

  test('advance without a current file is a programming error', async () => {
    const t = await PositionTracker.open(dir);
    expect(() => t.advance(1, 1)).toThrow(/without a current file/);
    await t.close();
  });
});

import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { AgentError, Event } from '../../../agent/index.ts';
import { testContext } from '../../../agent/testing/context.ts';
import { FileRollSink, type FileRollConfig } from './sink.ts';

type HandleMethods = {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
};

let dir: string;
let handlePrototype: HandleMethods;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-roll-sink-'));
  const probe = await open(join(dir, '.probe'), 'w');
  handlePrototype = Object.getPrototypeOf(probe);
  await probe.close();
  await rm(join(dir, '.probe'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function sink(overrides: Partial<FileRollConfig> = {}) {
  const config: FileRollConfig = {
    directory: 'out', rollInterval: 0, rollSize: 0, prefix: 'events-', format: 'json', fsync: false, batchSize: 100, ...overrides,
  };
  return new FileRollSink(config, testContext('sink', 'file_roll', { configDir: dir }));
}

const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => Event.fromData({ seq: from + i }));

/** Writes half of the next write's bytes, then fails: what a full disk does in the middle of a batch. */
function failNextWriteHalfway() {
  const write = handlePrototype.write;
  vi.spyOn(handlePrototype, 'write').mockImplementationOnce(async function (this: HandleMethods, buffer, offset, length) {
    await write.call(this, buffer, offset, Math.floor(length / 2));
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
}

async function readAll(out: string): Promise<string[]> {
  const names = (await readdir(out)).sort();
  expect(names.every((name) => !name.startsWith('.'))).toBe(true);
  const all: string[] = [];
  for (const name of names) {
    const text = await readFile(join(out, name), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    all.push(...text.slice(0, -1).split('\n'));
  }
  return all;
}

describe('file_roll write failures', () => {
  test('a failed write is a retriable SINK_WRITE error and the partial batch is truncated away', async () => {
    const s = sink();
    await s.start();
    await s.write(batch(0, 10));
    failNextWriteHalfway();
    const error = await s.write(batch(10, 10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'FTA_SINK_WRITE', retriable: true });
    await s.write(batch(10, 10)); // the runner's redelivery
    await s.stop();
    const out = join(dir, 'out');
    expect(await readdir(out)).toHaveLength(1);
    expect((await readAll(out)).map((l) => JSON.parse(l).seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test('when the partial batch cannot be removed, the redelivery duplicates rather than loses, and no line is torn', async () => {
    const s = sink();
    await s.start();
    await s.write(batch(0, 10));
    failNextWriteHalfway();
    vi.spyOn(handlePrototype, 'truncate').mockRejectedValueOnce(new Error('EIO'));
    // 9 lines of 11 bytes: half of them ends in the middle of a line.
    await expect(s.write(batch(10, 9))).rejects.toThrow(/could not write 9 events/);
    await s.write(batch(10, 9));
    await s.stop();
    const out = join(dir, 'out');
    expect(await readdir(out)).toHaveLength(2);
    const seqs = (await readAll(out)).map((l) => JSON.parse(l).seq as number);
    expect(new Set(seqs)).toEqual(new Set(Array.from({ length: 19 }, (_, i) => i)));
    expect(seqs.length).toBeGreaterThan(19);
  });

  test('a failed fsync fails the batch, which is then written once', async () => {
    const s = sink({ fsync: true });
    await s.start();
    vi.spyOn(handlePrototype, 'datasync').mockRejectedValueOnce(new Error('EIO'));
    await expect(s.write(batch(0, 5))).rejects.toMatchObject({ retriable: true });
    await s.write(batch(0, 5));
    await s.stop();
    expect((await readAll(join(dir, 'out'))).map((l) => JSON.parse(l).seq)).toEqual([0, 1, 2, 3, 4]);
  });

  test('idle and stop wait for a write in flight', async () => {
    const s = sink({ rollInterval: '1ms' });
    await s.start();
    const pending = s.write(batch(0, 1000));
    const stopped = s.stop();
    await Promise.all([pending, s.idle(), stopped]);
    expect(await readAll(join(dir, 'out'))).toHaveLength(1000);
  });

  test('recreates the directory when it disappears', async () => {
    const s = sink();
    await s.start();
    await rm(join(dir, 'out'), { recursive: true });
    await s.write(batch(0, 2));
    await s.stop();
    expect(await readAll(join(dir, 'out'))).toHaveLength(2);
  });
});

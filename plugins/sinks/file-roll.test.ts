import { Ajv } from 'ajv';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Event, type Sink } from '../../agent/index.ts';
import { testContext } from '../../agent/testing/context.ts';
import plugin, { type FileRollConfig } from './file-roll.ts';

let dir: string;
const sinks: Sink[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-roll-'));
});
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const sink of sinks.splice(0)) await sink.stop?.().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Validates and defaults the config the way the framework does, then builds and starts the sink. */
async function make(raw: Record<string, unknown> = {}, options: { start?: boolean } = {}) {
  const config: Record<string, unknown> = { directory: 'out', ...raw };
  const validate = new Ajv({ strict: true, useDefaults: true }).compile(plugin.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = testContext('sink', 'file_roll', { configDir: dir });
  const sink = await plugin.create(Object.freeze(config) as unknown as FileRollConfig, ctx);
  sinks.push(sink);
  if (options.start !== false) await sink.start!();
  return { sink, ctx, out: join(dir, 'out') };
}

const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => Event.fromData({ seq: from + i }));

async function listing(out: string) {
  const names = (await readdir(out)).sort();
  return { visible: names.filter((n) => !n.startsWith('.')), hidden: names.filter((n) => n.startsWith('.')) };
}

/** Final files in the order they were opened (names sort by millis, then by the counter n). */
async function finals(out: string): Promise<string[]> {
  const key = (name: string) => name.match(/(\d+)-(\d+)/)!.slice(1).map(Number) as [number, number];
  return (await listing(out)).visible.sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
}

async function lines(out: string, name: string): Promise<string[]> {
  const text = await readFile(join(out, name), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

async function allSeqs(out: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await finals(out)) for (const line of await lines(out, name)) seqs.push(JSON.parse(line).seq);
  return seqs;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('file_roll sink', () => {
  test('schema is strict, documented, requires directory and fills defaults', () => {
    const validate = new Ajv({ strict: true, useDefaults: true }).compile(plugin.schema);
    const config: Record<string, unknown> = { directory: '/data' };
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ directory: '/data', rollInterval: 30, rollSize: 0, prefix: 'events-', format: 'json', fsync: false, batchSize: 100 });
    expect(plugin.schema.required).toEqual(['directory']);
    expect(validate({})).toBe(false);
    expect(validate({ directory: 'd', channel: 'c' })).toBe(false);
    expect(validate({ directory: 'd', format: 'avro' })).toBe(false);
    expect(validate({ directory: 'd', prefix: '../x' })).toBe(false);
    expect(validate({ directory: 'd', rollInterval: '5m' })).toBe(true);
    for (const property of Object.values(plugin.schema.properties as Record<string, { description?: string }>)) {
      expect(property.description).toBeTruthy();
    }
  });

  test('creates the directory relative to the config and appends batches in order to a hidden file', async () => {
    const { sink } = await make({ directory: 'nested/out' });
    for (let i = 0; i < 5; i++) await sink.write(batch(i * 10, 10));
    const nested = join(dir, 'nested/out');
    const { visible, hidden } = await listing(nested);
    expect(visible).toEqual([]);
    expect(hidden).toHaveLength(1);
    expect(hidden[0]).toMatch(/^\.events-\d+-1\.jsonl\.tmp$/);
    await sink.stop!();
    expect(await listing(nested)).toEqual({ visible: [hidden[0]!.slice(1, -'.tmp'.length)], hidden: [] });
    expect(await allSeqs(nested)).toEqual(range(50));
  });

  test('rolls by size right after the batch that reached rollSize', async () => {
    const { sink, out } = await make({ rollSize: 100, rollInterval: 0 });
    // Each event is {"seq":N} plus a newline: 10 or 11 bytes, so a batch of 5 is about 55 bytes.
    for (let i = 0; i < 6; i++) await sink.write(batch(i * 5, 5));
    const before = await listing(out);
    expect(before.visible).toHaveLength(3);
    expect(before.hidden).toEqual([]);
    for (const name of before.visible) {
      expect((await readFile(join(out, name))).length).toBeGreaterThanOrEqual(100);
    }
    await sink.write(batch(30, 5));
    await sink.stop!();
    const names = await finals(out);
    expect(names).toHaveLength(4);
    expect(names.map((n) => n.match(/-(\d+)\.jsonl$/)![1])).toEqual(['1', '2', '3', '4']);
    expect(await allSeqs(out)).toEqual(range(35));
  });

  test('rolls by interval when idle is called after the interval passed', async () => {
    const { sink, out } = await make({ rollInterval: '300ms' });
    await sink.write(batch(0, 3));
    expect((await listing(out)).hidden).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 400));
    await sink.idle!();
    const { visible, hidden } = await listing(out);
    expect(hidden).toEqual([]);
    expect(visible).toHaveLength(1);
    expect(await allSeqs(out)).toEqual([0, 1, 2]);
  });

  test('interval rolls happen on write and idle, and only once the file is old enough', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const { sink, out } = await make({ rollInterval: 30 });
    await sink.write(batch(0, 1));
    vi.setSystemTime(1_000_000 + 29_999);
    await sink.idle!();
    await sink.write(batch(1, 1));
    expect((await listing(out)).visible).toEqual([]);
    vi.setSystemTime(1_000_000 + 30_000);
    await sink.write(batch(2, 1));
    expect((await listing(out)).visible).toEqual(['events-1000000-1.jsonl']);
    vi.setSystemTime(1_000_000 + 70_000);
    await sink.idle!();
    // An idle roll with no file open must not create an empty one.
    await sink.idle!();
    expect((await listing(out))).toEqual({ visible: ['events-1000000-1.jsonl', 'events-1030000-2.jsonl'], hidden: [] });
    expect(await allSeqs(out)).toEqual([0, 1, 2]);
  });

  test('rollInterval 0 keeps one file until stop', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(5_000);
    const { sink, out } = await make({ rollInterval: 0 });
    for (let i = 0; i < 3; i++) {
      await sink.write(batch(i, 1));
      vi.setSystemTime(5_000 + (i + 1) * 86_400_000);
      await sink.idle!();
    }
    expect(await listing(out)).toEqual({ visible: [], hidden: ['.events-5000-1.jsonl.tmp'] });
    await sink.stop!();
    expect(await listing(out)).toEqual({ visible: ['events-5000-1.jsonl'], hidden: [] });
  });

  test('leaves no empty files: nothing written means no file', async () => {
    const { sink, out } = await make({ rollInterval: '1ms' });
    await sink.write([]);
    // Every event is rejected (not JSON), so nothing is written and no file is opened.
    const result = await sink.write([Event.fromText('not json')]);
    expect(result).toMatchObject({ rejected: [{ reason: 'not_json' }] });
    await new Promise((r) => setTimeout(r, 5));
    await sink.idle!();
    await sink.stop!();
    expect(await readdir(out)).toEqual([]);
  });

  test('finalizes the temporaries a crashed run left behind, trimming a torn last line', async () => {
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, '.events-100-1.jsonl.tmp'), '{"seq":0}\n{"seq":1}\n');
    await writeFile(join(out, '.events-100-2.jsonl.tmp'), '{"seq":2}\n{"se');
    await writeFile(join(out, '.events-100-3.jsonl.tmp'), '');
    const { sink, ctx } = await make();
    expect(await listing(out)).toEqual({ visible: ['events-100-1.jsonl', 'events-100-2.jsonl'], hidden: [] });
    expect(await readFile(join(out, 'events-100-2.jsonl'), 'utf8')).toBe('{"seq":2}\n');
    await sink.write(batch(3, 1));
    await sink.stop!();
    expect(await allSeqs(out)).toEqual([0, 1, 2, 3]);
    expect(ctx.stats.get('files_rolled_total')).toBe(1);
  });

  test('a sink that never stopped (a crash) loses nothing: the next start publishes its file', async () => {
    const first = await make();
    await first.sink.write(batch(0, 100));
    // The crash: the first sink is never stopped (afterEach only closes its handle, after the assertions).
    const second = await make();
    expect((await listing(first.out)).visible).toHaveLength(1);
    await second.sink.write(batch(100, 1));
    await second.sink.stop!();
    expect(await allSeqs(first.out)).toEqual(range(101));
  });

  test('json-with-headers writes one object per line with headers and body', async () => {
    const { sink, out } = await make({ format: 'json-with-headers' });
    await sink.write([Event.fromText('{"id":1}', { topic: 'cards' }), Event.fromText('raw line', { topic: 'logs' })]);
    await sink.stop!();
    const [name] = await finals(out);
    expect(name).toMatch(/\.jsonl$/);
    expect((await lines(out, name!)).map((l) => JSON.parse(l))).toEqual([
      { headers: { topic: 'cards' }, body: { id: 1 } },
      { headers: { topic: 'logs' }, body: 'raw line' },
    ]);
  });

  test('text format defaults to the .log extension; extension "" means none', async () => {
    const text = await make({ format: 'text', prefix: 'tx_' });
    await text.sink.write([Event.fromText('a;b;c')]);
    await text.sink.stop!();
    const bare = await make({ directory: 'bare', extension: '' });
    await bare.sink.write([Event.fromText('1')]);
    await bare.sink.stop!();
    expect((await readdir(text.out))[0]).toMatch(/^tx_\d+-1\.log$/);
    expect(await readFile(join(text.out, (await readdir(text.out))[0]!), 'utf8')).toBe('a;b;c\n');
    expect((await readdir(join(dir, 'bare')))[0]).toMatch(/^events-\d+-1$/);
  });

  test('fsync flushes each batch before acknowledging it', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(prototype, 'datasync');
    const plain = await make({ directory: 'plain' });
    await plain.sink.write(batch(0, 10));
    expect(datasync).not.toHaveBeenCalled();
    const { sink, out } = await make({ fsync: true });
    for (let i = 0; i < 3; i++) await sink.write(batch(i * 10, 10));
    expect(datasync).toHaveBeenCalledTimes(3);
    await sink.stop!();
    expect(await allSeqs(out)).toEqual(range(30));
  });

  test('throughput sanity: 100k events in batches of 1000 all come back, in order', async () => {
    const { sink, out } = await make({ rollSize: 256 * 1024, batchSize: 1000 });
    for (let b = 0; b < 100; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => Event.fromText(`{"seq":${b * 1000 + i},"amount":"12.50","currency":"EUR"}`));
      await sink.write(events);
    }
    await sink.stop!();
    const names = await finals(out);
    expect(names.length).toBeGreaterThan(1);
    const seqs = await allSeqs(out);
    expect(seqs).toHaveLength(100_000);
    expect(seqs.every((seq, i) => seq === i)).toBe(true);
  });
});

import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { Event } from '../../../agent/event.ts';
import { testContext, type TestContext } from '../../../agent/testing/context.ts';
import type { Channel } from '../../../agent/types.ts';
import file from '../file.ts';
import { FileChannel } from './channel.ts';
import { DiskGuard } from './disk-space.ts';
import { SegmentLog } from './segment-log.ts';

const ev = (i: number) => Event.fromText(JSON.stringify({ id: i, pad: 'x'.repeat(100) }), { seq: String(i) }, 1_700_000_000_000 + i);
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

interface Built {
  ch: Channel;
  ctx: TestContext;
}

function setup(overrides: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fta-fc-'));
  const config = { checkpointDir: join(dir, 'cp'), dataDirs: [join(dir, 'data')], capacity: 100000, transactionCapacity: 1000, maxFileSize: 1 << 20, minimumRequiredSpace: 0, fsync: 'commit', fsyncIntervalMs: 50, keepAlive: 0.1, maxCachedEvents: 100000, ...overrides };
  const open = async (): Promise<Built> => {
    const ctx = testContext('channel', 'file', { name: 'fc' });
    const ch = (await file.create(config as never, ctx)) as Channel;
    await ch.start!();
    return { ch, ctx };
  };
  return { dir, data: join(dir, 'data'), open };
}

async function put(ch: Channel, events: Event[]) {
  const tx = ch.beginPut();
  tx.put(events);
  await tx.commit();
}

async function drain(ch: Channel): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const t = await ch.take(1000, 0);
    if (!t.events.length) return out;
    out.push(...ids(t.events));
    await t.commit();
  }
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

describe('file channel durability', () => {
  it('replays committed puts after a restart, minus what was taken, and redelivers what was in flight', async () => {
    const s = setup();
    const a = await s.open();
    for (let b = 0; b < 5; b++) await put(a.ch, range(b * 100, b * 100 + 100).map(ev));
    const done = await a.ch.take(150, 0);
    await done.commit();
    const inFlight = await a.ch.take(50, 0); // never committed: the process "dies"
    expect(ids(inFlight.events)).toEqual(range(150, 200));
    await a.ch.stop!();
    const b = await s.open();
    expect(b.ch.size()).toBe(350);
    const t = await b.ch.take(1000, 0);
    expect(ids(t.events)).toEqual(range(150, 500));
    expect(t.events[0]!.headers.seq).toBe('150');
    expect(t.events[0]!.ingestTime).toBe(1_700_000_000_150);
    await t.commit();
    await b.ch.stop!();
    const c = await s.open();
    expect(c.ch.size()).toBe(0);
    await c.ch.stop!();
  });

  it('reads events back from disk when they are not cached, byte for byte', async () => {
    const s = setup({ maxCachedEvents: 0 });
    const a = await s.open();
    const bytes = Event.fromBytes(new Uint8Array([0, 255, 10, 13]), { kind: 'raw' });
    await put(a.ch, [ev(1), bytes, Event.fromData({ ü: 'ß€' })]);
    const t = await a.ch.take(10, 0);
    expect(t.events[0]!.text).toBe(ev(1).text);
    expect([...t.events[1]!.bytes]).toEqual([0, 255, 10, 13]);
    expect(t.events[2]!.data).toEqual({ ü: 'ß€' });
    await t.commit();
    await a.ch.stop!();
  });

  it('deletes segments whose events were all taken, keeping disk use to the backlog plus one segment', async () => {
    const s = setup({ maxFileSize: 1 << 20 });
    const a = await s.open();
    for (let b = 0; b < 400; b++) await put(a.ch, range(b * 100, b * 100 + 100).map(ev));
    expect(segments(s.data).length).toBeGreaterThan(3);
    expect(await drain(a.ch)).toEqual(range(0, 40000));
    expect(segments(s.data).length).toBe(1);
    expect(a.ctx.stats.get('segments')).toBe(1);
    await a.ch.stop!();
    const b = await s.open();
    expect(b.ch.size()).toBe(0);
    expect(segments(s.data).length).toBeLessThanOrEqual(2);
    await b.ch.stop!();
  });

  it('keeps disk use to the queued records plus one segment while a backlog is queued, and reports it', async () => {
    const s = setup({ maxFileSize: 256 << 10 });
    const a = await s.open();
    const bytes = () => segments(s.data).reduce((n, f) => n + statSync(join(s.data, f)).size, 0);
    for (let b = 0; b < 200; b++) await put(a.ch, range(b * 100, b * 100 + 100).map(ev));
    const full = bytes();
    expect(a.ctx.stats.get('disk_bytes')).toBe(full);
    for (let t = 0; t < 15; t++) await (await a.ch.take(1000, 0)).commit(); // 15,000 of 20,000 taken
    const queued = (full * 5000) / 20000; // every record has the same size
    expect(bytes()).toBeLessThanOrEqual(queued + (256 << 10) + 4096); // + the active segment + take records
    expect(a.ctx.stats.get('disk_bytes')).toBe(bytes());
    await a.ch.stop!();
  });

  it('acknowledges a put only after its fdatasync finished (fsync: commit)', async () => {
    const s = setup();
    const a = await s.open();
    const probe = await open(join(s.dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const real = proto.datasync;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let syncing = 0;
    proto.datasync = async function (this: unknown) {
      syncing++;
      await held; // the disk has not confirmed yet
      return real.call(this);
    };
    try {
      let acknowledged = false;
      const commit = put(a.ch, [ev(1)]).then(() => (acknowledged = true));
      await vi.waitFor(() => expect(syncing).toBe(1));
      await new Promise((r) => setTimeout(r, 50));
      expect(acknowledged).toBe(false);
      release();
      await commit;
      expect(acknowledged).toBe(true);
    } finally {
      proto.datasync = real;
      release();
    }
    await a.ch.stop!();
  });

  it('shares one fsync among commits that arrive together (group commit), each still durable', async () => {
    const s = setup();
    const a = await s.open();
    const fsyncs = () => a.ctx.stats.histograms.get('fsync_seconds')!.h.count;
    const before = fsyncs();
    await Promise.all(range(0, 40).map((b) => put(a.ch, range(b * 10, b * 10 + 10).map(ev))));
    const used = fsyncs() - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(40);
    await a.ch.stop!();
    const b = await s.open();
    expect((await drain(b.ch)).sort((x, y) => x - y)).toEqual(range(0, 400));
    await b.ch.stop!();
  });

  it('records fsync latency with fsync: commit, and also works with fsync: interval', async () => {
    const s = setup();
    const a = await s.open();
    await put(a.ch, [ev(1)]);
    expect(a.ctx.stats.histograms.get('fsync_seconds')!.h.count).toBeGreaterThan(0);
    await a.ch.stop!();
    const i = setup({ fsync: 'interval' });
    const b = await i.open();
    await put(b.ch, range(0, 10).map(ev));
    await b.ch.stop!();
    const c = await i.open();
    expect(await drain(c.ch)).toEqual(range(0, 10));
    await c.ch.stop!();
  });
});

describe('file channel integrity', () => {
  it('cuts a torn tail, keeps every intact record, counts it, and accepts new puts', async () => {
    const s = setup();
    const a = await s.open();
    for (let b = 0; b < 3; b++) await put(a.ch, range(b * 10, b * 10 + 10).map(ev));
    await a.ch.stop!();
    const seg = join(s.data, segments(s.data).at(-1)!);
    const size = statSync(seg).size;
    const whole = readFileSync(seg);
    const firstRecord = 20 + whole.readUInt32LE(8);
    appendFileSync(seg, whole.subarray(0, firstRecord - 5)); // a record cut short, as a crash mid-write leaves
    const b = await s.open();
    expect(b.ctx.stats.get('checksum_failures_total')).toBe(1);
    expect(statSync(seg).size).toBe(size);
    await put(b.ch, [ev(99)]);
    expect(await drain(b.ch)).toEqual([...range(0, 30), 99]);
    await b.ch.stop!();
  });

  it('skips a record with a flipped byte in the middle, and keeps the records after it', async () => {
    const s = setup();
    const a = await s.open();
    for (let b = 0; b < 3; b++) await put(a.ch, range(b * 10, b * 10 + 10).map(ev));
    await a.ch.stop!();
    const seg = join(s.data, segments(s.data).at(-1)!);
    const buf = readFileSync(seg);
    const mid = Math.floor(buf.length / 2); // inside the second record's payload
    buf[mid] = buf[mid]! ^ 0xff;
    writeFileSync(seg, buf);
    const b = await s.open();
    expect(b.ctx.stats.get('checksum_failures_total')).toBe(1);
    expect(await drain(b.ch)).toEqual([...range(0, 10), ...range(20, 30)]);
    await b.ch.stop!();
  });

  it('finds the next record when a record header itself is damaged', async () => {
    const s = setup();
    const a = await s.open();
    for (let b = 0; b < 3; b++) await put(a.ch, range(b * 10, b * 10 + 10).map(ev));
    await a.ch.stop!();
    const seg = join(s.data, segments(s.data).at(-1)!);
    const buf = readFileSync(seg);
    const second = buf.indexOf(Buffer.from('FTA1'.split('').reverse().join('')), 1);
    expect(second).toBeGreaterThan(0);
    buf[second + 9] = buf[second + 9]! ^ 0x55; // the payload length field
    writeFileSync(seg, buf);
    const b = await s.open();
    expect(b.ctx.stats.get('checksum_failures_total')).toBeGreaterThanOrEqual(1);
    expect(await drain(b.ch)).toEqual([...range(0, 10), ...range(20, 30)]);
    await b.ch.stop!();
  });
});

describe('file channel limits', () => {
  it('makes puts wait with a clear retriable error and a gauge while disk space is short, and recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fta-fc-'));
    let free = 10;
    const ctx = testContext('channel', 'file', { name: 'low' });
    const log = new SegmentLog([dir], 1 << 20, 'commit', 1000, () => {});
    const ch = new FileChannel({ capacity: 1000, transactionCapacity: 100, keepAliveMs: 100, fsync: 'commit', maxCachedEvents: 1000 }, log, new DiskGuard([dir], 1000, () => free, 0), ctx, () => {});
    await ch.start();
    await expect(put(ch, [ev(1)])).rejects.toMatchObject({ code: 'FTA_DISK_SPACE_LOW', retriable: true, message: expect.stringMatching(/below minimumRequiredSpace/) });
    expect(ctx.stats.get('disk_space_low')).toBe(1);
    expect(ch.size()).toBe(0);
    free = 1 << 30;
    await put(ch, [ev(2)]);
    expect(ctx.stats.get('disk_space_low')).toBe(0);
    expect(await drain(ch)).toEqual([2]);
    await ch.stop();
  });

  it('refuses a directory another channel holds, with a clear error, until it is released', async () => {
    const s = setup();
    const a = await s.open();
    await expect(s.open()).rejects.toMatchObject({ code: 'FTA_DIRECTORY_LOCKED', message: expect.stringMatching(/already used by file channel "fc".*Give each file channel its own/) });
    await a.ch.stop!();
    const b = await s.open();
    await b.ch.stop!();
    expect(existsSync(join(s.dir, 'cp'))).toBe(true);
  });

  it('fails a put beyond capacity with a retriable channel-full error', async () => {
    const s = setup({ capacity: 10, transactionCapacity: 10 });
    const a = await s.open();
    await put(a.ch, range(0, 10).map(ev));
    await expect(put(a.ch, [ev(10)])).rejects.toMatchObject({ code: 'FTA_CHANNEL_FULL', retriable: true });
    await a.ch.stop!();
  });

  it('replays only the segments still on disk', async () => {
    const s = setup({ maxFileSize: 1 << 20 });
    const a = await s.open();
    for (let b = 0; b < 200; b++) await put(a.ch, range(b * 100, b * 100 + 100).map(ev));
    for (let k = 0; k < 190; k++) await (await a.ch.take(100, 0)).commit();
    await a.ch.stop!();
    const b = await s.open();
    expect(b.ch.size()).toBe(1000);
    expect((b.ch as FileChannel).status().Segments).toBeLessThanOrEqual(3);
    expect(await drain(b.ch)).toEqual(range(19000, 20000));
    await b.ch.stop!();
  });
});

describe('file channel replay properties', () => {
  it('after the log is cut at any byte, a restart delivers exactly the batches whose records were whole, in order', async () => {
    const fcModule = await import('fast-check');
    const fc = fcModule.default;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), async (sizes, where) => {
        const s = setup();
        const a = await s.open();
        const batches: number[][] = [];
        let id = 0;
        for (const n of sizes) {
          const b = range(id, id + n);
          id += n;
          batches.push(b);
          await put(a.ch, b.map(ev));
        }
        await a.ch.stop!();
        const seg = join(s.data, segments(s.data).at(-1)!);
        const buf = readFileSync(seg);
        const cut = Math.floor(where * buf.length);
        writeFileSync(seg, buf.subarray(0, cut));
        // The records are back to back: the whole ones are those that end at or before the cut.
        const expected: number[] = [];
        let at = 0;
        for (const b of batches) {
          const len = 20 + buf.readUInt32LE(at + 8);
          if (at + len > cut) break;
          expected.push(...b);
          at += len;
        }
        const b = await s.open();
        expect(await drain(b.ch)).toEqual(expected);
        await b.ch.stop!();
      }),
      { numRuns: 40 },
    );
  });
});

describe('file channel integrity after recovery', () => {
  it('property: a bit flipped on disk after recovery never reaches a sink; the damaged batch is skipped and counted', async () => {
    const fcModule = await import('fast-check');
    const fc = fcModule.default;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 7 }), async (sizes, where, bit) => {
        // maxCachedEvents 0: every event is read back from disk at take time, after recovery checked the log.
        const s = setup({ maxCachedEvents: 0 });
        const a = await s.open();
        const batches: number[][] = [];
        let id = 0;
        for (const n of sizes) {
          batches.push(range(id, id + n));
          await put(a.ch, range(id, id + n).map(ev));
          id += n;
        }
        await a.ch.stop!();
        // The segment the batches were written to (the reopened channel may have started a new, empty one).
        const seg = join(s.data, segments(s.data).at(-1)!);
        const b = await s.open();
        expect(b.ctx.stats.get('checksum_failures_total')).toBe(0);
        const buf = readFileSync(seg);
        const at = Math.min(buf.length - 1, Math.floor(where * buf.length));
        const fd = openSync(seg, 'r+');
        writeSync(fd, Buffer.from([buf[at]! ^ (1 << bit)]), 0, 1, at);
        closeSync(fd);
        // Which batch the byte belongs to: the records are back to back.
        let start = 0;
        let hit = -1;
        batches.forEach((_, i) => {
          const len = 20 + buf.readUInt32LE(start + 8);
          if (at >= start && at < start + len) hit = i;
          start += len;
        });
        const taken: Event[] = [];
        for (;;) {
          const t = await b.ch.take(1000, 0);
          if (!t.events.length) break;
          taken.push(...t.events);
          await t.commit();
        }
        // Every event delivered is exactly as written; only the batch holding the flipped bit is missing.
        expect(taken.map((e) => e.text)).toEqual(batches.flatMap((ids, i) => (i === hit ? [] : ids.map((x) => ev(x).text))));
        expect(taken.map((e) => e.headers.seq)).toEqual(batches.flatMap((ids, i) => (i === hit ? [] : ids.map(String))));
        expect(b.ctx.stats.get('checksum_failures_total')).toBe(1);
        expect(b.ch.size()).toBe(0);
        await b.ch.stop!();
      }),
      { numRuns: 40 },
    );
  });
});

describe('file channels in one agent', () => {
  it('two channels configured on the same directories fail to start with a clear error', async () => {
    const { startAgent } = await import('../../../agent/run.ts');
    const { silentLogger } = await import('../../../agent/log.ts');
    const dir = mkdtempSync(join(tmpdir(), 'fta-fc-agent-'));
    writeFileSync(
      join(dir, 'agent.yaml'),
      `metrics: { enabled: false }
agents:
  a:
    channels:
      one: { type: file, checkpointDir: ./cp1, dataDirs: [./shared] }
      two: { type: file, checkpointDir: ./cp2, dataDirs: [./shared] }
    sinks:
      k1: { type: null, channel: one }
      k2: { type: null, channel: two }
`,
    );
    await expect(startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false })).rejects.toMatchObject({
      code: 'FTA_DIRECTORY_LOCKED',
      message: expect.stringMatching(/shared is already used by file channel "one" of agent "a".*own checkpointDir and dataDirs/),
    });
    // The failed start released channel "one": a corrected config starts in the same process.
    writeFileSync(join(dir, 'agent.yaml'), readFileSync(join(dir, 'agent.yaml'), 'utf8').replace('dataDirs: [./shared] }\n      two', 'dataDirs: [./own] }\n      two'));
    const ok = await startAgent({ conf: join(dir, 'agent.yaml'), log: silentLogger(), metricsPort: false });
    await ok.stop();
  });
});

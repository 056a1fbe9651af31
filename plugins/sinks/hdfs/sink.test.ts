/**
 * The sink's own logic (grouping by bucket, all-or-nothing batches, rolls, dead letters) over an in-memory file
 * tree that answers as WebHDFS does. test/hdfs.test.ts runs the sink against real HDFS.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AgentError, Event } from '../../../agent/index.ts';
import { testContext } from '../../../agent/testing/context.ts';
import type { HdfsOps } from './bucket-writer.ts';
import { HdfsSink, hdfsUser, type HdfsSinkConfig } from './sink.ts';
import { WebHdfsError, type FileStatus } from './webhdfs-client.ts';

/** Files by path; `failAppend(path, keep)` makes the next write to a path land `keep` bytes and then fail. */
function memFs() {
  const files = new Map<string, Buffer>();
  const faults = new Map<string, number>();
  const write = (create: boolean) => async (path: string, data: Buffer) => {
    if (create && files.has(path)) throw new WebHdfsError('exists', 403, 'FileAlreadyExistsException');
    if (!create && !files.has(path)) throw new WebHdfsError('missing', 404, 'FileNotFoundException');
    const keep = faults.get(path);
    faults.delete(path);
    files.set(path, Buffer.concat([files.get(path) ?? Buffer.alloc(0), keep === undefined ? data : data.subarray(0, keep)]));
    if (keep !== undefined) throw new WebHdfsError(`reset while writing ${path}`, 0, undefined, 'maybe');
  };
  const status = (path: string): FileStatus | undefined => (files.has(path) ? { pathSuffix: '', type: 'FILE', length: files.get(path)!.length, modificationTime: 0 } : undefined);
  const ops: HdfsOps = {
    create: write(true),
    append: write(false),
    rename: async (a, b) => files.has(a) && !files.has(b) && (files.set(b, files.get(a)!), files.delete(a)),
    delete: async (p) => files.delete(p),
    truncate: async (p, n) => (files.set(p, files.get(p)!.subarray(0, n)), true),
    status: async (p) => status(p),
    list: async () => undefined,
    read: async (p, offset = 0, length) => files.get(p)!.subarray(offset, length === undefined ? undefined : offset + length),
  };
  /** The files, with counters renamed N1, N2… in the order they were handed out. */
  const view = () => {
    const counters = [...new Set([...files.keys()].map((k) => /\.(\d{13,})/.exec(k)?.[1]).filter(Boolean))].sort();
    const name = (k: string) => k.replace(/\.(\d{13,})/, (_, c: string) => `.N${counters.indexOf(c) + 1}`);
    return Object.fromEntries([...files].map(([k, v]): [string, string] => [name(k), v.toString()]).sort());
  };
  return { ops, files, faults, view };
}

const config = (o: Partial<HdfsSinkConfig> = {}): HdfsSinkConfig => ({
  namenodes: ['http://127.0.0.1:1'], path: '/f/%H%M', filePrefix: 'FlumeData', fileSuffix: '', inUsePrefix: '', inUseSuffix: '.tmp', rollInterval: 0, rollSize: 0,
  rollCount: 0, idleTimeout: 0, batchSize: 100, fileType: 'DataStream', codeC: 'gzip', round: true, roundValue: 10, roundUnit: 'minute', timeZone: 'UTC',
  useLocalTimeStamp: false, timestampField: 'at', maxOpenFiles: 5000, callTimeout: 1000, ...o,
});
const ev = (id: number, minute: number) => Event.fromText(`{"id":${id},"at":"2024-03-07T14:${String(minute).padStart(2, '0')}:00Z"}`);
const build = (o: Partial<HdfsSinkConfig> = {}) => {
  const fs = memFs();
  const ctx = testContext('sink', 'hdfs');
  return { ...fs, ctx, sink: new HdfsSink(config(o), ctx, fs.ops) };
};

describe('hdfs sink logic', () => {
  it('writes each bucket in one file per batch and renames every file on stop', async () => {
    const { sink, view, ctx } = build();
    await sink.start();
    await sink.write([ev(1, 1), ev(2, 12), ev(3, 2)]);
    await sink.write([ev(4, 15)]);
    expect(view()).toEqual({ '/f/1400/FlumeData.N1.tmp': '{"id":1,"at":"2024-03-07T14:01:00Z"}\n{"id":3,"at":"2024-03-07T14:02:00Z"}\n', '/f/1410/FlumeData.N2.tmp': '{"id":2,"at":"2024-03-07T14:12:00Z"}\n{"id":4,"at":"2024-03-07T14:15:00Z"}\n' });
    await sink.stop();
    expect(Object.keys(view())).toEqual(['/f/1400/FlumeData.N1', '/f/1410/FlumeData.N2']);
    expect([ctx.stats.get('files_opened_total'), ctx.stats.get('files_rolled_total'), ctx.stats.get('bytes_written_total')]).toEqual([2, 2, 148]);
  });

  it('returns events without a usable time as rejected (missing-timestamp) and writes the rest', async () => {
    const { sink, view } = build();
    const result = await sink.write([ev(1, 1), Event.fromText('{"id":2}'), Event.fromText('{"id":3,"at":"later"}')]);
    expect(result?.rejected?.map((r) => [r.reason, r.detail])).toEqual([
      ['missing-timestamp', 'no field "at" and no "timestamp" header'],
      ['missing-timestamp', 'field "at" is not a time: "later"'],
    ]);
    expect(Object.values(view())).toEqual(['{"id":1,"at":"2024-03-07T14:01:00Z"}\n']);
  });

  it('keeps a batch all or nothing: a failed bucket cuts the other buckets back, and the redelivery lands once', async () => {
    const { sink, view, faults, files, ctx } = build();
    await sink.start();
    await sink.write([ev(1, 1), ev(2, 11)]);
    const inUse1410 = [...files.keys()].find((p) => p.startsWith('/f/1410/'))!;
    faults.set(inUse1410, 10); // 10 bytes of the batch land in 1410's file, then the connection drops
    const batch = [ev(3, 2), ev(4, 12), ev(5, 22)];
    const error = await sink.write(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ retriable: true, code: 'FTA_HDFS_WRITE' });
    await sink.write(batch); // the runner's redelivery
    await sink.stop();
    const lines = Object.values(view()).join('').split('\n').filter(Boolean).map((l) => JSON.parse(l).id).sort();
    expect(lines).toEqual([1, 2, 3, 4, 5]);
    expect(Object.keys(view()).every((p) => !p.endsWith('.tmp'))).toBe(true);
    // 1400 and 1410 were cut back to their first event and renamed; 1420, created by the failed batch, was
    // deleted; the redelivery wrote new files for all three.
    expect(view()).toEqual({
      '/f/1400/FlumeData.N1': '{"id":1,"at":"2024-03-07T14:01:00Z"}\n',
      '/f/1400/FlumeData.N3': '{"id":3,"at":"2024-03-07T14:02:00Z"}\n',
      '/f/1410/FlumeData.N2': '{"id":2,"at":"2024-03-07T14:11:00Z"}\n',
      '/f/1410/FlumeData.N4': '{"id":4,"at":"2024-03-07T14:12:00Z"}\n',
      '/f/1420/FlumeData.N5': '{"id":5,"at":"2024-03-07T14:22:00Z"}\n',
    });
    expect(ctx.stats.get('files_rolled_total')).toBe(5);
  });

  it('moves to a new name when the file name is taken, leaving the other file alone', async () => {
    const { sink, files, view } = build({ path: '/f' });
    const realNow = Date.now;
    Date.now = () => 1_700_000_000_000;
    try {
      files.set('/f/FlumeData.1700000000000.tmp', Buffer.from('someone else\n'));
      await expect(sink.write([ev(1, 1)])).rejects.toMatchObject({ retriable: true });
      await sink.write([ev(1, 1)]);
    } finally {
      Date.now = realNow;
    }
    await sink.stop();
    expect(view()).toEqual({ '/f/FlumeData.N1.tmp': 'someone else\n', '/f/FlumeData.N2': '{"id":1,"at":"2024-03-07T14:01:00Z"}\n' });
  });

  it('rolls by count and size after a batch, by age and idleness on idle, and beyond maxOpenFiles', async () => {
    const count = build({ rollCount: 2, path: '/c' });
    for (let i = 0; i < 5; i++) await count.sink.write([ev(i, 1)]);
    expect(Object.keys(count.view()).filter((p) => !p.endsWith('.tmp'))).toHaveLength(2);
    const size = build({ rollSize: 80, path: '/s' });
    for (let i = 0; i < 5; i++) await size.sink.write([ev(i, 1)]);
    expect(Object.values(size.view()).map((v) => v.split('\n').length - 1)).toEqual([3, 2]);
    const age = build({ rollInterval: '20ms', path: '/a' });
    await age.sink.write([ev(1, 1)]);
    await age.sink.idle();
    expect(Object.keys(age.view())[0]).toMatch(/\.tmp$/);
    await new Promise((r) => setTimeout(r, 30));
    await age.sink.idle();
    expect(Object.keys(age.view())[0]).toMatch(/FlumeData\.N1$/);
    const lru = build({ maxOpenFiles: 2 });
    await lru.sink.write([ev(1, 1), ev(2, 11), ev(3, 21)]);
    await lru.sink.idle();
    expect(Object.keys(lru.view()).map((p) => p.endsWith('.tmp'))).toEqual([false, true, true]);
  });

  it('writes CompressedStream as one gzip member per batch, named .gz', async () => {
    const { sink, files } = build({ fileType: 'CompressedStream', path: '/g', fileSuffix: '.jsonl' });
    await sink.write([ev(1, 1), ev(2, 1)]);
    await sink.write([ev(3, 1)]);
    await sink.stop();
    const [[name, data]] = [...files];
    expect(name).toMatch(/^\/g\/FlumeData\.\d+\.jsonl\.gz$/);
    expect(gunzipSync(data!).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l).id)).toEqual([1, 2, 3]);
  });

  it('picks the HDFS user as the Hadoop client does', () => {
    expect(hdfsUser('etl')).toBe('etl');
    const saved = process.env.HADOOP_USER_NAME;
    process.env.HADOOP_USER_NAME = 'hadoop';
    try {
      expect(hdfsUser(undefined)).toBe('hadoop');
    } finally {
      if (saved === undefined) delete process.env.HADOOP_USER_NAME;
      else process.env.HADOOP_USER_NAME = saved;
    }
  });
});

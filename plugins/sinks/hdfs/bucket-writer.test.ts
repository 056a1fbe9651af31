import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { baseName, BucketWriter, Counter, encodeBatch, inUseName, joinPath, type HdfsOps, type Naming, type RollPolicy } from './bucket-writer.ts';
import { WebHdfsError } from './webhdfs-client.ts';

const naming: Naming = { filePrefix: 'FlumeData', fileSuffix: '.jsonl', inUsePrefix: '_', inUseSuffix: '.tmp' };
const never: RollPolicy = { rollIntervalMs: 0, rollSize: 0, rollCount: 0, idleTimeoutMs: 0 };

/** Records calls; `fail` makes the next write throw the given error. */
function ops() {
  const calls: string[] = [];
  let fail: Error | undefined;
  const write = (op: string) => async (path: string, data: Buffer) => {
    calls.push(`${op} ${path} ${data.toString().trim()}`);
    if (fail) {
      const e = fail;
      fail = undefined;
      throw e;
    }
  };
  const fs = { create: write('create'), append: write('append') } as unknown as HdfsOps;
  return { fs, calls, failNext: (e: Error) => void (fail = e) };
}

describe('bucket writer', () => {
  it('names files as Flume does, under the in-use name until renamed', () => {
    expect(baseName(naming, 1700000000000)).toBe('FlumeData.1700000000000.jsonl');
    expect(inUseName(naming, 'FlumeData.1.jsonl')).toBe('_FlumeData.1.jsonl.tmp');
    expect(inUseName(naming, 'FlumeData.1.jsonl', 4096)).toBe('_FlumeData.1.jsonl.acked-4096.tmp');
    expect(joinPath('/', 'a')).toBe('/a');
    const w = new BucketWriter(ops().fs, '/flume/20240307/1430', naming, 42, 0);
    expect([w.inUsePath, w.finalPath]).toEqual(['/flume/20240307/1430/_FlumeData.42.jsonl.tmp', '/flume/20240307/1430/FlumeData.42.jsonl']);
  });

  it('creates the file with the first batch and appends each later batch in one request, counting what HDFS acknowledged', async () => {
    const { fs, calls } = ops();
    const w = new BucketWriter(fs, '/d', naming, 1, 0);
    await w.append(Buffer.from('a\nb\n'), 2, 10);
    await w.append(Buffer.from('c\n'), 1, 20);
    expect(calls).toEqual(['create /d/_FlumeData.1.jsonl.tmp a\nb', 'append /d/_FlumeData.1.jsonl.tmp c']);
    expect([w.created, w.bytes, w.events, w.lastWriteAt, w.failed]).toEqual([true, 6, 3, 20, undefined]);
  });

  it('keeps a file nothing reached, abandons one a batch may have partly reached, and leaves a name someone else holds', async () => {
    const o = ops();
    const w = new BucketWriter(o.fs, '/d', naming, 1, 0);
    o.failNext(new WebHdfsError('NameNode down', 0, undefined, 'no'));
    await expect(w.append(Buffer.from('a\n'), 1, 1)).rejects.toThrow('NameNode down');
    expect([w.failed, w.created, w.bytes]).toEqual([undefined, false, 0]);
    await w.append(Buffer.from('a\n'), 1, 2);
    o.failNext(new WebHdfsError('reset', 0, undefined, 'maybe'));
    await expect(w.append(Buffer.from('b\n'), 1, 3)).rejects.toThrow('reset');
    expect([w.failed, w.bytes, w.events]).toEqual(['abandoned', 2, 1]);

    const taken = new BucketWriter(o.fs, '/d', naming, 2, 0);
    o.failNext(new WebHdfsError('exists', 403, 'FileAlreadyExistsException', 'no'));
    await expect(taken.append(Buffer.from('a\n'), 1, 1)).rejects.toThrow('exists');
    expect(taken.failed).toBe('collision');

    const odd = new BucketWriter(o.fs, '/d', naming, 3, 0);
    o.failNext(new TypeError('unexpected'));
    await expect(odd.append(Buffer.from('a\n'), 1, 1)).rejects.toThrow('unexpected');
    expect(odd.failed).toBe('abandoned');
  });

  it('is due to roll by size, count, age and idleness, never before its first write', async () => {
    const w = new BucketWriter(ops().fs, '/d', naming, 1, 1000);
    expect(w.rollReason(10_000_000, { ...never, rollIntervalMs: 1 })).toBeUndefined();
    await w.append(Buffer.from('abcd\n'), 1, 2000);
    expect(w.rollReason(2000, never)).toBeUndefined();
    expect(w.rollReason(2000, { ...never, rollSize: 5 })).toBe('size');
    expect(w.rollReason(2000, { ...never, rollSize: 6 })).toBeUndefined();
    expect(w.rollReason(2000, { ...never, rollCount: 1 })).toBe('count');
    expect(w.rollReason(31_000, { ...never, rollIntervalMs: 30_000 })).toBe('interval');
    expect(w.rollReason(30_999, { ...never, rollIntervalMs: 30_000 })).toBeUndefined();
    expect(w.rollReason(12_000, { ...never, idleTimeoutMs: 10_000 })).toBe('idle');
    expect(w.rollReason(11_999, { ...never, idleTimeoutMs: 10_000 })).toBeUndefined();
  });

  it('encodes a batch as lines of the bodies as they arrived, or as one gzip member', async () => {
    const events = [Event.fromText('{"a":1}'), Event.fromData({ b: 'é' }), Event.fromBytes(Uint8Array.of(0xff, 0x00))];
    const plain = await encodeBatch(events, false);
    expect([...plain]).toEqual([...Buffer.from('{"a":1}\n{"b":"é"}\n'), 0xff, 0x00, 0x0a]);
    const gz = await encodeBatch(events, true);
    expect(gunzipSync(gz)).toEqual(plain);
    expect(gunzipSync(Buffer.concat([gz, await encodeBatch([Event.fromText('next')], true)])).toString('latin1').endsWith('\nnext\n')).toBe(true);
  });

  it('hands out counters that follow the clock but never repeat', () => {
    const c = new Counter();
    expect([c.next(100), c.next(100), c.next(100), c.next(500), c.next(400)]).toEqual([100, 101, 102, 500, 501]);
  });
});

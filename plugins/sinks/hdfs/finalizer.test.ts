/**
 * The finalizer's decisions (which steps, in which order, with which lengths) over an in-memory file tree that
 * mimics the HDFS answers it depends on: a lease held by a failed writer, rename refusing an existing target.
 * test/hdfs.test.ts runs the same paths against real HDFS.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/log.ts';
import type { HdfsOps, Naming } from './bucket-writer.ts';
import { Finalizer, inUsePattern, type Pending } from './finalizer.ts';
import { WebHdfsError, type FileStatus } from './webhdfs-client.ts';

const naming: Naming = { filePrefix: 'FlumeData', fileSuffix: '.log', inUsePrefix: '', inUseSuffix: '.tmp' };

class MemFs {
  files = new Map<string, Buffer>();
  leased = new Set<string>();
  dirs = new Set<string>(['/']);
  calls: string[] = [];
  put(path: string, data: string, leased = false): void {
    this.files.set(path, Buffer.from(data));
    if (leased) this.leased.add(path);
    for (let d = path.slice(0, path.lastIndexOf('/')); d; d = d.slice(0, d.lastIndexOf('/'))) this.dirs.add(d);
  }
  text(path: string): string | undefined {
    return this.files.get(path)?.toString();
  }
  readonly ops: HdfsOps = {
    create: async () => undefined,
    append: async (path: string, data: Buffer) => {
      this.calls.push(`append ${path}`);
      if (!this.files.has(path)) throw new WebHdfsError('missing', 404, 'FileNotFoundException');
      if (this.leased.has(path)) throw new WebHdfsError('lease', 403, 'AlreadyBeingCreatedException', 'maybe');
      this.files.set(path, Buffer.concat([this.files.get(path)!, data]));
    },
    rename: async (from: string, to: string) => {
      this.calls.push(`rename ${from} ${to}`);
      if (!this.files.has(from) || this.files.has(to)) return false;
      this.files.set(to, this.files.get(from)!);
      this.files.delete(from);
      if (this.leased.delete(from)) this.leased.add(to);
      return true;
    },
    delete: async (path: string) => (this.calls.push(`delete ${path}`), this.files.delete(path)),
    truncate: async (path: string, length: number) => {
      this.calls.push(`truncate ${path} ${length}`);
      this.files.set(path, this.files.get(path)!.subarray(0, length));
      return true;
    },
    status: async (path: string) => (this.files.has(path) ? ({ pathSuffix: '', type: 'FILE', length: this.files.get(path)!.length, modificationTime: 0 } as FileStatus) : undefined),
    list: async (dir: string) => {
      if (!this.dirs.has(dir)) return undefined;
      const prefix = dir === '/' ? '/' : `${dir}/`;
      const children = new Map<string, FileStatus['type']>();
      for (const p of [...this.files.keys(), ...this.dirs]) {
        if (!p.startsWith(prefix) || p === dir) continue;
        const rest = p.slice(prefix.length);
        children.set(rest.split('/')[0]!, rest.includes('/') || this.dirs.has(p) ? 'DIRECTORY' : 'FILE');
      }
      return [...children].map(([pathSuffix, type]) => ({ pathSuffix, type, length: 0, modificationTime: 0 }));
    },
    read: async (path: string, offset = 0, length?: number) => this.files.get(path)!.subarray(offset, length === undefined ? undefined : offset + length),
  };
}

function finalizer(fs: MemFs, lines = true) {
  const done: Pending[] = [];
  return { f: new Finalizer(fs.ops, naming, lines, silentLogger(), (p) => done.push(p)), done };
}

describe('hdfs finalizer', () => {
  it("matches only this sink's in-use names", () => {
    const re = inUsePattern({ filePrefix: 'Flume.Data', fileSuffix: '.jsonl.gz', inUsePrefix: '_', inUseSuffix: '.tmp' });
    expect(re.exec('_Flume.Data.1700000000000.jsonl.gz.tmp')?.slice(1)).toEqual(['Flume.Data.1700000000000.jsonl.gz', undefined]);
    expect(re.exec('_Flume.Data.17.jsonl.gz.acked-512.tmp')?.slice(1)).toEqual(['Flume.Data.17.jsonl.gz', '512']);
    for (const other of ['Flume.Data.17.jsonl.gz', '_FlumeXData.17.jsonl.gz.tmp', '_Flume.Data.17.jsonl.gz', '_Other.17.jsonl.gz.tmp', '_Flume.Data.x.jsonl.gz.tmp']) {
      expect(re.test(other), other).toBe(false);
    }
  });

  it('renames a rolled file, and counts a rename whose reply was lost as done', async () => {
    const fs = new MemFs();
    fs.put('/d/FlumeData.1.log.tmp', 'a\n');
    fs.put('/d/FlumeData.2.log', 'b\n');
    const { f, done } = finalizer(fs);
    f.add({ kind: 'closed', path: '/d/FlumeData.1.log.tmp', final: '/d/FlumeData.1.log' });
    f.add({ kind: 'closed', path: '/d/FlumeData.2.log.tmp', final: '/d/FlumeData.2.log' });
    await f.run();
    expect([f.size, done.length, fs.text('/d/FlumeData.1.log')]).toEqual([0, 2, 'a\n']);
  });

  it('cuts an abandoned file back to what HDFS acknowledged, waiting for the failed writer\'s lease, and records the cut in its name first', async () => {
    const fs = new MemFs();
    fs.put('/d/FlumeData.1.log.tmp', 'one\ntwo\npartial-thr', true);
    const { f, done } = finalizer(fs);
    f.add({ kind: 'abandoned', path: '/d/FlumeData.1.log.tmp', final: '/d/FlumeData.1.log', dir: '/d', base: 'FlumeData.1.log', acked: 8 });
    await f.run();
    expect(f.size).toBe(1); // the lease is still held
    expect([...fs.files.keys()]).toEqual(['/d/FlumeData.1.log.acked-8.tmp']);
    fs.leased.clear(); // HDFS recovered the lease
    await f.run(true);
    expect([f.size, done.length, fs.text('/d/FlumeData.1.log')]).toEqual([0, 1, 'one\ntwo\n']);
    expect(fs.calls.slice(-3)).toEqual(['append /d/FlumeData.1.log.acked-8.tmp', 'truncate /d/FlumeData.1.log.acked-8.tmp 8', 'rename /d/FlumeData.1.log.acked-8.tmp /d/FlumeData.1.log']);
  });

  it('deletes an abandoned file of which nothing was acknowledged', async () => {
    const fs = new MemFs();
    fs.put('/d/FlumeData.1.log.tmp', 'half a ba', true);
    const { f } = finalizer(fs);
    f.add({ kind: 'abandoned', path: '/d/FlumeData.1.log.tmp', final: '/d/FlumeData.1.log', dir: '/d', base: 'FlumeData.1.log', acked: 0 });
    await f.run();
    expect([f.size, fs.files.size]).toEqual([0, 0]);
  });

  it('finds files an earlier run left, as deep as the buckets go, and finalizes them: torn lines cut, marked ones cut to their mark', async () => {
    const fs = new MemFs();
    fs.put('/flume/20240307/1430/FlumeData.1.log.tmp', 'a\nb\ntor');
    fs.put('/flume/20240307/1440/FlumeData.2.log.acked-2.tmp', 'c\nd\n');
    fs.put('/flume/20240307/1440/FlumeData.3.log.tmp', 'no newline at all');
    fs.put('/flume/20240307/1440/FlumeData.4.log.tmp', 'mine, open');
    fs.put('/flume/20240307/1440/FlumeData.5.log', 'final\n');
    fs.put('/flume/20240307/1440/Other.6.log.tmp', 'another sink\n');
    fs.put('/flume/20240307/1440/deeper/FlumeData.7.log.tmp', 'too deep\n');
    const { f, done } = finalizer(fs);
    expect(await f.scan('/flume', 2, new Set(['/flume/20240307/1440/FlumeData.4.log.tmp']))).toBe(3);
    expect(await f.scan('/nothing-here', 2, new Set())).toBe(0);
    await f.run();
    expect(done.map((p) => [p.kind, p.found])).toEqual([['leftover', true], ['abandoned', true]]); // FlumeData.3 held no complete line: deleted
    expect(Object.fromEntries([...fs.files].map(([k, v]) => [k, v.toString()]))).toEqual({
      '/flume/20240307/1430/FlumeData.1.log': 'a\nb\n',
      '/flume/20240307/1440/FlumeData.2.log': 'c\n',
      '/flume/20240307/1440/FlumeData.4.log.tmp': 'mine, open',
      '/flume/20240307/1440/FlumeData.5.log': 'final\n',
      '/flume/20240307/1440/Other.6.log.tmp': 'another sink\n',
      '/flume/20240307/1440/deeper/FlumeData.7.log.tmp': 'too deep\n',
    });
  });

  it('renames compressed leftovers as they are (a gzip member cannot be cut at a line)', async () => {
    const fs = new MemFs();
    fs.put('/g/FlumeData.1.log.tmp', 'binary-ish');
    const { f } = finalizer(fs, false);
    await f.scan('/g', undefined, new Set());
    await f.run();
    expect(fs.text('/g/FlumeData.1.log')).toBe('binary-ish');
  });
});

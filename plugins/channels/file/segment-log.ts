/**
 * Append-only segment files with group commit. Commits that arrive while a write+fsync is in progress wait and go
 * out together in the next single writev and single fdatasync, so fsync-per-commit stays fast under concurrency.
 * A new segment is started at every open and whenever the active one reaches maxFileSize or a write failed (so a
 * half-written record is never followed by good ones in the same file). Segments are deleted from the head only.
 */
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface Segment {
  id: number;
  path: string;
  size: number;
  /** Events put into this segment and not yet taken for good. */
  live: number;
  reader?: FileHandle;
}

interface Pending {
  buf: Buffer;
  sync: boolean;
  resolve: (loc: { segment: Segment; offset: number }) => void;
  reject: (error: unknown) => void;
}

const NAME = /^log-(\d{10})\.seg$/;

export class SegmentLog {
  readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private writer: FileHandle | undefined;
  private broken = false;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private unsynced = false;
  /** When the last fdatasync started (performance.now()), so `interval` keeps its bound under sustained writes. */
  private lastSyncAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dirs: readonly string[],
    private readonly maxFileSize: number,
    private readonly policy: 'commit' | 'interval',
    private readonly intervalMs: number,
    private readonly onSync: (seconds: number) => void,
  ) {}

  /** Lists existing segments in id order (for recovery). */
  async existing(): Promise<Segment[]> {
    const found: Segment[] = [];
    for (const dir of this.dirs) {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        const m = NAME.exec(name);
        if (m) found.push({ id: Number(m[1]), path: join(dir, name), size: 0, live: 0 });
      }
    }
    return found.sort((a, b) => a.id - b.id);
  }

  async readAll(segment: Segment): Promise<Buffer> {
    return readFile(segment.path);
  }

  async truncate(segment: Segment, size: number): Promise<void> {
    await truncate(segment.path, size);
    segment.size = size;
  }

  /** Adopts the recovered segments and opens a fresh active one after them. */
  async start(recovered: Segment[]): Promise<void> {
    this.segments.push(...recovered);
    await this.roll();
    if (this.policy === 'interval') {
      this.timer = setInterval(() => void this.syncIfNeeded(), this.intervalMs);
      this.timer.unref();
    }
  }

  private async roll(): Promise<void> {
    if (this.writer) {
      if (!this.broken) await this.sync();
      await this.writer.close().catch(() => undefined);
    }
    const id = (this.segments.at(-1)?.id ?? 0) + 1;
    const dir = this.dirs[id % this.dirs.length]!;
    const segment: Segment = { id, path: join(dir, `log-${String(id).padStart(10, '0')}.seg`), size: 0, live: 0 };
    this.writer = await open(segment.path, 'a');
    // The new file's directory entry must be durable too, or a machine crash could lose the whole file.
    const d = await open(dir, 'r');
    await d.sync().catch(() => undefined);
    await d.close();
    this.segments.push(segment);
    this.active = segment;
    this.broken = false;
  }

  /** Appends a record; resolves with where it landed once written (and, when `sync`, on disk). */
  append(buf: Buffer, sync: boolean): Promise<{ segment: Segment; offset: number }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ buf, sync, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const group = this.pending;
      this.pending = [];
      try {
        if (this.broken || this.active!.size >= this.maxFileSize) await this.roll();
        const segment = this.active!;
        const offsets: number[] = [];
        let size = segment.size;
        for (const p of group) {
          offsets.push(size);
          size += p.buf.length;
        }
        let { bytesWritten } = await this.writer!.writev(group.map((p) => p.buf));
        while (bytesWritten < size - segment.size) {
          // A short write: finish the rest before anything else lands after it.
          const rest = Buffer.concat(group.map((p) => p.buf)).subarray(bytesWritten);
          bytesWritten += (await this.writer!.write(rest)).bytesWritten;
        }
        segment.size = size;
        this.unsynced = true;
        if (this.policy === 'commit' ? group.some((p) => p.sync) : performance.now() - this.lastSyncAt >= this.intervalMs) await this.sync();
        group.forEach((p, i) => p.resolve({ segment, offset: offsets[i]! }));
      } catch (error) {
        this.broken = true;
        for (const p of group) p.reject(error);
      }
    }
    this.flushing = undefined;
  }

  private async sync(): Promise<void> {
    if (!this.writer || !this.unsynced) return;
    this.unsynced = false;
    const t0 = performance.now();
    this.lastSyncAt = t0;
    await this.writer.datasync();
    this.onSync((performance.now() - t0) / 1000);
  }

  private async syncIfNeeded(): Promise<void> {
    // A running flush syncs itself once the interval has passed (flush above): a timer sync now would race it.
    if (this.flushing) return;
    try {
      await this.sync();
    } catch {
      this.broken = true;
    }
  }

  async read(segment: Segment, offset: number, length: number): Promise<Buffer> {
    segment.reader ??= await open(segment.path, 'r');
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await segment.reader.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new Error(`Segment ${segment.path} ends before offset ${offset + length}.`);
      got += bytesRead;
    }
    return buf;
  }

  /** Deletes fully taken segments from the head (never the active one). */
  async deleteConsumed(): Promise<number> {
    let n = 0;
    while (this.segments.length > 1 && this.segments[0] !== this.active && this.segments[0]!.live <= 0) {
      const s = this.segments.shift()!;
      await s.reader?.close().catch(() => undefined);
      await rm(s.path, { force: true });
      n++;
    }
    return n;
  }

  bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.flushing) await this.flushing;
    if (!this.broken) await this.sync().catch(() => undefined);
    await this.writer?.close().catch(() => undefined);
    for (const s of this.segments) await s.reader?.close().catch(() => undefined);
    this.writer = undefined;
  }
}

/**
 * One open file of the hdfs sink: its names, what HDFS acknowledged of it, and when it is due to roll.
 *
 * The file lives under its in-use name (inUsePrefix + filePrefix.counter + fileSuffix + inUseSuffix) until it is
 * rolled and renamed. Each batch is one request: CREATE carries the first batch, APPEND each later one, so the
 * acknowledged length is known exactly after every batch. When an append fails after its data may have reached
 * the file, the writer is abandoned: nothing is appended after a partial batch, and the sink's finalizer later
 * cuts the file back to the acknowledged length (see finalizer.ts) before renaming it.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Event } from '../../../agent/index.ts';
import type { WebHdfsClient } from './webhdfs-client.ts';
import { WebHdfsError } from './webhdfs-client.ts';

export type HdfsOps = Pick<WebHdfsClient, 'create' | 'append' | 'rename' | 'delete' | 'truncate' | 'status' | 'list' | 'read'>;

export interface Naming {
  filePrefix: string;
  /** Everything after the counter in the final name, e.g. ".jsonl.gz". */
  fileSuffix: string;
  inUsePrefix: string;
  inUseSuffix: string;
}

export interface RollPolicy {
  /** Milliseconds since the file was opened; 0 = never. */
  rollIntervalMs: number;
  /** Bytes written to HDFS; 0 = never. */
  rollSize: number;
  /** Events; 0 = never. */
  rollCount: number;
  /** Milliseconds without a write; 0 = never. */
  idleTimeoutMs: number;
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** `<filePrefix>.<counter><fileSuffix>`: Flume's names, where the counter is the opening time in ms, kept unique. */
export function baseName(naming: Naming, counter: number): string {
  return `${naming.filePrefix}.${counter}${naming.fileSuffix}`;
}

export function inUseName(naming: Naming, base: string, acked?: number): string {
  return `${naming.inUsePrefix}${base}${acked === undefined ? '' : `.acked-${acked}`}${naming.inUseSuffix}`;
}

/** What an append failure means for the file (none: nothing reached it, the file may be written again). */
export type Failure = 'abandoned' | 'collision';

export class BucketWriter {
  readonly base: string;
  readonly inUsePath: string;
  readonly finalPath: string;
  /** Bytes HDFS acknowledged. */
  bytes = 0;
  events = 0;
  created = false;
  /** Set when the file must not be written again. */
  failed: Failure | undefined;
  lastWriteAt: number;

  constructor(
    private readonly fs: HdfsOps,
    readonly dir: string,
    naming: Naming,
    counter: number,
    readonly openedAt: number,
  ) {
    this.base = baseName(naming, counter);
    this.inUsePath = joinPath(dir, inUseName(naming, this.base));
    this.finalPath = joinPath(dir, this.base);
    this.lastWriteAt = openedAt;
  }

  /**
   * Writes one batch in one request. On failure the error is rethrown and `failed` says whether the file must be
   * abandoned ('abandoned': part of the batch may be in it) or is not ours ('collision': the name was taken);
   * it stays undefined when nothing reached HDFS, and the file may be written again.
   */
  async append(data: Buffer, count: number, now: number): Promise<void> {
    try {
      if (this.created) await this.fs.append(this.inUsePath, data);
      else await this.fs.create(this.inUsePath, data);
    } catch (error) {
      const e = error instanceof WebHdfsError ? error : undefined;
      if (e?.exception === 'FileAlreadyExistsException' && !this.created) this.failed = 'collision';
      else if (!e || e.written === 'maybe') this.failed = 'abandoned';
      throw error;
    }
    this.created = true;
    this.bytes += data.length;
    this.events += count;
    this.lastWriteAt = now;
  }

  /** Why the file should be rolled now, or undefined. */
  rollReason(now: number, policy: RollPolicy): 'interval' | 'size' | 'count' | 'idle' | undefined {
    if (!this.created) return undefined;
    if (policy.rollSize > 0 && this.bytes >= policy.rollSize) return 'size';
    if (policy.rollCount > 0 && this.events >= policy.rollCount) return 'count';
    if (policy.rollIntervalMs > 0 && now - this.openedAt >= policy.rollIntervalMs) return 'interval';
    if (policy.idleTimeoutMs > 0 && now - this.lastWriteAt >= policy.idleTimeoutMs) return 'idle';
    return undefined;
  }
}

const gzipAsync = promisify(gzip);
const NEWLINE = Buffer.from('\n');

/**
 * One batch's bytes for one file: each body followed by '\n' (Flume's text serializer). Compressed, the batch is
 * one gzip member: concatenated members are one valid gzip stream (RFC 1952) that gunzip, zcat and Hadoop read.
 */
export async function encodeBatch(events: readonly Event[], compressed: boolean): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (const e of events) parts.push(e.bytes, NEWLINE);
  const data = Buffer.concat(parts);
  return compressed ? gzipAsync(data) : data;
}

/** Monotonic file counters: the wall clock in ms, but never the same value twice (Flume's naming). */
export class Counter {
  private last = 0;
  next(now = Date.now()): number {
    this.last = Math.max(this.last + 1, now);
    return this.last;
  }
}

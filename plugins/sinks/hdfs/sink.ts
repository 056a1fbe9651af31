/**
 * The running hdfs sink: resolves each event's bucket directory, appends the batch's events of each bucket to
 * that bucket's in-use file in one request, resolves only after WebHDFS acknowledged every one, and rolls files
 * by age, size, count, idleness and on stop. The definition and schema are in ../hdfs.ts.
 *
 * A batch is all or nothing: when one bucket's append fails, every file the batch touched is abandoned to the
 * finalizer (finalizer.ts), which cuts it back to its length before the batch; the error is retriable and the
 * runner redelivers the whole batch into new files. So an HDFS failure duplicates nothing; duplicates (at most
 * the batch in flight) remain only when the agent itself dies during an append, before it could record the cut.
 */
import { userInfo } from 'node:os';
import { AgentError, errorMessage, toMillis, type ComponentContext, type Event, type Sink, type WriteResult } from '../../../agent/index.ts';
import { BucketWriter, Counter, encodeBatch, type HdfsOps, type Naming, type RollPolicy } from './bucket-writer.ts';
import { loadTls, type TlsConfig } from '../../shared/tls.ts';
import { Finalizer, type Pending } from './finalizer.ts';
import { PathTemplate, type TimeOptions } from './path-escapes.ts';
import { WebHdfsClient } from './webhdfs-client.ts';

export interface HdfsSinkConfig extends TimeOptions {
  namenodes: string[];
  /** Default: HADOOP_USER_NAME, else the OS user running the agent. */
  user?: string;
  path: string;
  filePrefix: string;
  fileSuffix: string;
  inUsePrefix: string;
  inUseSuffix: string;
  rollInterval: number | string;
  idleTimeout: number | string;
  rollSize: number;
  rollCount: number;
  batchSize: number;
  fileType: 'DataStream' | 'CompressedStream';
  codeC: 'gzip';
  maxOpenFiles: number;
  callTimeout: number | string;
  tls?: TlsConfig;
}

type Metric = ReturnType<ComponentContext['metrics']['counter']>;

/** The HDFS user as Hadoop's own client picks it: the configured one, HADOOP_USER_NAME, else the OS user. */
export function hdfsUser(configured: string | undefined): string {
  return configured || process.env.HADOOP_USER_NAME || userInfo().username;
}

export class HdfsSink implements Sink {
  private readonly fs: HdfsOps;
  private readonly template: PathTemplate;
  private readonly naming: Naming;
  private readonly policy: RollPolicy;
  private readonly finalizer: Finalizer;
  private readonly writers = new Map<string, BucketWriter>();
  private readonly counter = new Counter();
  private readonly metrics: Record<'opened' | 'rolled' | 'bytes' | 'recovered' | 'abandoned', Metric>;
  private lastSweep = 0;
  private queue: Promise<unknown> = Promise.resolve(); // one operation at a time: a roll never races an append

  constructor(private readonly config: Readonly<HdfsSinkConfig>, private readonly ctx: ComponentContext, fs?: HdfsOps) {
    this.fs = fs ?? new WebHdfsClient({
      namenodes: config.namenodes, user: hdfsUser(config.user), timeoutMs: toMillis(config.callTimeout, 'ms'),
      ...(config.tls ? { tls: loadTls(config.tls, ctx.configDir) } : {}), // read at create: a missing file fails the start
    });
    this.template = new PathTemplate(config.path, config);
    const gz = config.fileType === 'CompressedStream';
    this.naming = { filePrefix: config.filePrefix, fileSuffix: config.fileSuffix + (gz ? '.gz' : ''), inUsePrefix: config.inUsePrefix, inUseSuffix: config.inUseSuffix };
    this.policy = {
      rollIntervalMs: toMillis(config.rollInterval, 's'), rollSize: config.rollSize, rollCount: config.rollCount, idleTimeoutMs: toMillis(config.idleTimeout, 's'),
    };
    const m = ctx.metrics;
    this.metrics = {
      opened: m.counter('files_opened_total', 'HDFS files created.'),
      rolled: m.counter('files_rolled_total', 'HDFS files closed and renamed to their final name.'),
      bytes: m.counter('bytes_written_total', 'Bytes HDFS acknowledged (after compression).'),
      recovered: m.counter('files_recovered_total', 'In-use files left by an earlier run, finalized on start.'),
      abandoned: m.counter('files_abandoned_total', 'Files closed early because a batch touching them failed, to be cut back to what HDFS acknowledged.'),
    };
    this.finalizer = new Finalizer(this.fs, this.naming, !gz, ctx.log, (p) => this.finalized(p));
  }

  start(): Promise<void> {
    return this.exclusive(async () => {
      const { staticPrefix, depth } = this.template;
      try {
        const found = await this.finalizer.scan(staticPrefix, depth, new Set());
        if (found > 0) this.ctx.log.info({ directory: staticPrefix, files: found }, 'Finalizing in-use files left by an earlier run.');
      } catch (error) {
        throw this.failure(`could not list ${staticPrefix} for in-use files left by an earlier run`, error);
      }
      await this.finalizer.run(true);
    });
  }

  write(events: readonly Event[]): Promise<WriteResult | void> {
    return this.exclusive(() => this.writeBatch(events));
  }

  idle(): Promise<void> {
    return this.exclusive(() => this.housekeeping(Date.now(), true));
  }

  stop(): Promise<void> {
    return this.exclusive(async () => {
      for (const w of [...this.writers.values()]) this.roll(w);
      await this.finalizer.run(true);
      const left = this.finalizer.size;
      if (left > 0) this.ctx.log.warn({ files: left }, 'Some HDFS files could not be finalized yet; they keep their in-use names and the next start finalizes them.');
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeBatch(events: readonly Event[]): Promise<WriteResult | void> {
    const now = Date.now();
    const rejected: NonNullable<WriteResult['rejected']> = [];
    const groups = new Map<string, Event[]>();
    for (const event of events) {
      const r = this.template.resolve(event, now);
      if (r.reason !== undefined) rejected.push({ event, reason: r.reason, detail: r.detail });
      else if (groups.has(r.dir)) groups.get(r.dir)!.push(event);
      else groups.set(r.dir, [event]);
    }
    await this.housekeeping(now, false);
    const results = await Promise.allSettled([...groups].map(([dir, batch]) => this.appendBucket(dir, batch, now)));
    const failures = results.filter((r) => r.status === 'rejected');
    if (failures.length > 0) {
      for (const r of results) if (r.status === 'fulfilled') this.abandon(r.value.writer, r.value.before);
      await this.finalizer.run();
      throw this.failure(`could not write ${events.length} events to ${[...groups.keys()].join(', ')}`, failures[0]!.reason);
    }
    for (const r of results) if (r.status === 'fulfilled' && r.value.writer.rollReason(now, this.policy)) this.roll(r.value.writer);
    if (this.finalizer.size > 0) await this.finalizer.run();
    return rejected.length > 0 ? { rejected } : undefined;
  }

  /** Appends one bucket's events; a file the failure may have touched goes to the finalizer. */
  private async appendBucket(dir: string, batch: Event[], now: number): Promise<{ writer: BucketWriter; before: number }> {
    const writer = this.writerFor(dir, now);
    const data = await encodeBatch(batch, this.config.fileType === 'CompressedStream');
    const { bytes: before, created } = writer;
    try {
      await writer.append(data, batch.length, now);
    } catch (error) {
      if (writer.failed === 'abandoned') this.abandon(writer, before);
      else if (writer.failed === 'collision') this.writers.delete(dir); // someone else's file: leave it alone
      throw error;
    }
    if (!created) this.metrics.opened.inc();
    this.metrics.bytes.inc(data.length);
    return { writer, before };
  }

  private writerFor(dir: string, now: number): BucketWriter {
    let w = this.writers.get(dir);
    if (w) this.writers.delete(dir); // re-inserted last: the map's order is least recently used first
    else w = new BucketWriter(this.fs, dir, this.naming, this.counter.next(now), now);
    this.writers.set(dir, w);
    return w;
  }

  /** Rolls what is due (interval and idle at most once a second, everything when `full`), then retries finalizing. */
  private async housekeeping(now: number, full: boolean): Promise<void> {
    if (full || now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      for (const w of [...this.writers.values()]) if (w.rollReason(now, this.policy)) this.roll(w);
      for (const w of this.writers.values()) {
        if (this.writers.size <= this.config.maxOpenFiles) break;
        this.roll(w);
      }
    }
    if (this.finalizer.size > 0) await this.finalizer.run();
  }

  private roll(w: BucketWriter): void {
    this.writers.delete(w.dir);
    if (w.created) this.finalizer.add({ kind: 'closed', path: w.inUsePath, final: w.finalPath });
  }

  /** Hands a file that may hold part of a failed batch to the finalizer, to be cut back to `acked` bytes. */
  private abandon(w: BucketWriter, acked: number): void {
    this.writers.delete(w.dir);
    this.metrics.abandoned.inc();
    this.finalizer.add({ kind: 'abandoned', path: w.inUsePath, final: w.finalPath, dir: w.dir, base: w.base, acked });
  }

  private finalized(p: Pending): void {
    (p.found ? this.metrics.recovered : this.metrics.rolled).inc();
    this.ctx.log.debug({ file: p.final, kind: p.kind }, 'Finalized HDFS file.');
  }

  private failure(what: string, error: unknown): AgentError {
    return new AgentError('FTA_HDFS_WRITE', `hdfs sink ${what}: ${errorMessage(error)}. Retrying after a backoff.`, { retriable: true, cause: error });
  }
}

/**
 * The durable file channel. A put commit appends one checksummed PUT record per batch and resolves once it is on
 * disk per the fsync policy (group commit shares fsyncs); a take commit appends a TAKE record naming the sequence
 * numbers consumed. Restart replays only the segments still on disk, which hold what is queued (plus at most the
 * consumed part of their segments), so recovery time follows the backlog, not the history.
 */
import { AgentError, bufferedPut, ChannelFullError, emptyTake, Waiters, type Channel, type ComponentContext, type Event, type PutTransaction, type TakeTransaction } from '../../../agent/index.ts';
import type { DiskGuard } from './disk-space.ts';
import { ChunkQueue, type Run } from './queue.ts';
import { encodePut, encodeTake } from './record.ts';
import { recover } from './recovery.ts';
import type { SegmentLog } from './segment-log.ts';

export interface FileChannelOptions {
  capacity: number;
  transactionCapacity: number;
  keepAliveMs: number;
  fsync: 'commit' | 'interval';
  maxCachedEvents: number;
}

export class FileChannel implements Channel {
  readonly capacity: number;
  readonly transactionCapacity: number;
  private readonly queue: ChunkQueue;
  private nextSeq = 0;
  private inFlight = 0;
  private reserved = 0;
  private readonly spaceFreed = new Waiters();
  private readonly eventsAdded = new Waiters();
  private takeLock: Promise<unknown> = Promise.resolve();
  private readonly lowDisk;
  private readonly checksumFailures;
  private readonly segmentsGauge;
  private readonly bytesGauge;
  recoverySeconds = 0;

  constructor(
    private readonly o: FileChannelOptions,
    private readonly log: SegmentLog,
    private readonly disk: DiskGuard,
    private readonly ctx: ComponentContext,
    private readonly release: () => void,
  ) {
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    this.queue = new ChunkQueue(log, o.maxCachedEvents, (d) => {
      this.checksumFailures.inc();
      this.ctx.log.error({ segment: d.segment.path, offset: d.offset, events: d.events, reason: d.reason }, 'Damaged record found when reading events back; its events are skipped, never delivered damaged.');
    });
    this.lowDisk = ctx.metrics.gauge('disk_space_low', '1 while free disk space is below minimumRequiredSpace and puts wait.');
    this.checksumFailures = ctx.metrics.counter('checksum_failures_total', 'Damaged records found at recovery or when events are read back (skipped, or torn tails cut).');
    this.segmentsGauge = ctx.metrics.gauge('segments', 'Segment files on disk.');
    this.bytesGauge = ctx.metrics.gauge('disk_bytes', 'Bytes of segment files on disk.');
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    const r = await recover(this.log, this.queue, (d) => {
      this.checksumFailures.inc();
      this.ctx.log.warn({ segment: d.path, offset: d.offset, bytes: d.length, reason: d.reason }, d.reason === 'torn-tail' ? 'Torn tail cut from a segment (an interrupted write).' : 'Damaged record skipped; the intact records after it are kept.');
    });
    this.nextSeq = r.nextSeq;
    this.recoverySeconds = (performance.now() - t0) / 1000;
    this.updateGauges();
    if (r.events > 0 || r.segments > 0) this.ctx.log.info({ events: r.events, segments: r.segments, seconds: this.recoverySeconds }, 'File channel recovered.');
  }

  size(): number {
    return this.queue.size + this.inFlight;
  }

  status(): Record<string, number> {
    return { DiskBytes: this.log.bytes(), Segments: this.log.segments.length, RecoverySeconds: this.recoverySeconds, CachedEvents: this.queue.cached };
  }

  private updateGauges(): void {
    this.segmentsGauge.set(this.log.segments.length);
    this.bytesGauge.set(this.log.bytes());
  }

  beginPut(): PutTransaction {
    return bufferedPut(this.ctx.name, this.transactionCapacity, (events) => this.commitPut(events));
  }

  private async commitPut(events: Event[]): Promise<void> {
    const n = events.length;
    const start = this.nextSeq;
    const record = encodePut(start, events);
    this.nextSeq += n;
    const deadline = Date.now() + this.o.keepAliveMs;
    for (;;) {
      const room = this.size() + this.reserved + n <= this.capacity;
      const disk = room && this.disk.hasRoom(record.length);
      this.lowDisk.set(room && !disk ? 1 : 0);
      if (room && disk) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        if (!room) throw new ChannelFullError(this.ctx.name, n, Math.max(0, this.capacity - this.size() - this.reserved));
        throw new AgentError(
          'FTA_DISK_SPACE_LOW',
          `Channel "${this.ctx.name}": free disk space (${this.disk.lastFree} bytes) is below minimumRequiredSpace; puts wait until space is freed. Free disk space or lower minimumRequiredSpace.`,
          { retriable: true, component: this.ctx.name },
        );
      }
      // Disk space is polled; room in the channel is signalled by takes.
      await this.spaceFreed.wait(room ? Math.min(left, 100) : left);
    }
    this.reserved += n;
    try {
      const { segment, offset } = await this.log.append(record, this.o.fsync === 'commit');
      segment.live += n;
      this.queue.push({ segment, start, count: n, pos: 0, events, payloadOffset: offset + 20, payloadLength: record.length - 20 }, n);
    } finally {
      this.reserved -= n;
    }
    this.updateGauges();
    this.eventsAdded.wakeAll();
  }

  async take(max: number, waitMs: number, signal?: AbortSignal): Promise<TakeTransaction> {
    if (this.queue.size === 0 && waitMs > 0) await this.eventsAdded.wait(waitMs, signal);
    if (this.queue.size === 0) return emptyTake;
    // Takes read from disk asynchronously; serialize them so two sinks never get the same events.
    const next = this.takeLock.then(() => this.queue.take(Math.min(max, this.transactionCapacity)));
    this.takeLock = next.catch(() => undefined);
    const runs = await next;
    const events = runs.flatMap((r) => r.events);
    this.inFlight += events.length;
    let open = true;
    return {
      events,
      commit: async () => {
        if (!open) return;
        open = false;
        await this.commitTake(runs, events.length);
      },
      rollback: async () => {
        if (!open) return;
        open = false;
        this.inFlight -= events.length;
        this.queue.unshift(runs);
        this.eventsAdded.wakeAll();
      },
    };
  }

  private async commitTake(runs: Run[], n: number): Promise<void> {
    // The TAKE record need not be fsynced: losing it in a machine crash redelivers (duplicates), never loses.
    await this.log.append(encodeTake(runs.map((r) => ({ start: r.start, count: r.events.length }))), false);
    for (const r of runs) r.segment.live -= r.events.length;
    this.inFlight -= n;
    await this.log.deleteConsumed();
    this.updateGauges();
    this.spaceFreed.wakeAll();
  }

  async stop(): Promise<void> {
    await this.takeLock.catch(() => undefined);
    await this.log.close();
    this.release();
  }
}

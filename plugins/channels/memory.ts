/**
 * The memory channel: fast, bounded, and lost on a crash. Capacity counts events queued plus events taken by a
 * sink but not yet committed, so a slow sink cannot make the channel hold more than `capacity`. A put that does
 * not fit waits up to keepAlive for room, then fails with a retriable ChannelFullError; the source runner backs off
 * and the source stops reading (backpressure).
 */
import { bufferedPut, ChannelFullError, definePlugin, durationSchema, emptyTake, EventDeque, toMillis, Waiters } from '../../agent/index.ts';
import type { Channel, Event, PutTransaction, TakeTransaction } from '../../agent/index.ts';

interface MemoryConfig {
  capacity: number;
  transactionCapacity: number;
  byteCapacity: number;
  keepAlive: number | string;
}

class MemoryChannel implements Channel {
  private readonly queue = new EventDeque();
  private inFlight = 0;
  private bytes = 0;
  private readonly spaceFreed = new Waiters();
  private readonly eventsAdded = new Waiters();
  private readonly keepAliveMs: number;

  constructor(
    readonly name: string,
    readonly capacity: number,
    readonly transactionCapacity: number,
    private readonly byteCapacity: number,
    keepAlive: number | string,
  ) {
    this.keepAliveMs = toMillis(keepAlive, 's');
  }

  size(): number {
    return this.queue.size + this.inFlight;
  }

  status(): Record<string, number> {
    return { ByteSize: this.bytes, ByteCapacity: this.byteCapacity };
  }

  private fits(n: number, bytes: number): boolean {
    if (this.size() + n > this.capacity) return false;
    return this.byteCapacity === 0 || this.bytes + bytes <= this.byteCapacity || this.bytes === 0;
  }

  beginPut(): PutTransaction {
    return bufferedPut(this.name, this.transactionCapacity, (events) => this.commitPut(events));
  }

  private async commitPut(events: Event[]): Promise<void> {
    let bytes = 0;
    if (this.byteCapacity > 0) for (const e of events) bytes += e.size;
    const deadline = Date.now() + this.keepAliveMs;
    while (!this.fits(events.length, bytes)) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.spaceFreed.wait(left))) {
        if (!this.fits(events.length, bytes)) throw new ChannelFullError(this.name, events.length, Math.max(0, this.capacity - this.size()));
      }
    }
    this.queue.pushBatch(events);
    this.bytes += bytes;
    this.eventsAdded.wakeAll();
  }

  async take(max: number, waitMs: number, signal?: AbortSignal): Promise<TakeTransaction> {
    if (this.queue.size === 0 && waitMs > 0) await this.eventsAdded.wait(waitMs, signal);
    if (this.queue.size === 0) return emptyTake;
    const events = this.queue.take(Math.min(max, this.transactionCapacity));
    this.inFlight += events.length;
    let bytes = 0;
    if (this.byteCapacity > 0) for (const e of events) bytes += e.size;
    let open = true;
    return {
      events,
      commit: async () => {
        if (!open) return;
        open = false;
        this.inFlight -= events.length;
        this.bytes -= bytes;
        this.spaceFreed.wakeAll();
      },
      rollback: async () => {
        if (!open) return;
        open = false;
        this.inFlight -= events.length;
        this.queue.unshiftBatch(events);
        this.eventsAdded.wakeAll();
      },
    };
  }
}

export default definePlugin<'channel', MemoryConfig>({
  kind: 'channel',
  type: 'memory',
  description: 'In-memory channel: the fastest, bounded by events and bytes; events still queued are lost if the process dies.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      capacity: { type: 'integer', minimum: 1, default: 10000, description: 'Maximum events held (queued plus taken but not committed).' },
      transactionCapacity: { type: 'integer', minimum: 1, default: 1000, description: 'Maximum events in one put or take transaction; must be at least every batchSize that uses this channel.' },
      byteCapacity: { type: 'integer', minimum: 0, default: 0, description: 'Maximum bytes of event bodies held; 0 = no byte limit (capacity alone bounds memory).' },
      keepAlive: durationSchema('How long a put waits for room before failing with a retriable channel-full error (the source backs off and retries).', 's', 3),
    },
  },
  create(config, ctx) {
    if (config.transactionCapacity > config.capacity) {
      throw new Error(`transactionCapacity (${config.transactionCapacity}) must not exceed capacity (${config.capacity}).`);
    }
    return new MemoryChannel(ctx.name, config.capacity, config.transactionCapacity, config.byteCapacity, config.keepAlive);
  },
});

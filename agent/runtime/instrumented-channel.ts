/**
 * Wraps any channel implementation so the framework, not the plugin, keeps the standard channel metrics
 * (Flume's ChannelCounter names) and so every put can be retried the same way.
 */
import { AgentError, ErrorCodes, StoppingError, isRetriable } from '../errors.ts';
import type { Event } from '../event.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { Channel, PutTransaction, TakeTransaction } from '../types.ts';
import { Backoff } from './backoff.ts';

export class InstrumentedChannel implements Channel {
  constructor(
    readonly name: string,
    readonly inner: Channel,
    readonly stats: ComponentStats,
  ) {
    stats.probes.set('size', () => inner.size());
    stats.probes.set('capacity', () => inner.capacity);
    stats.probes.set('fill_ratio', () => (inner.capacity > 0 ? inner.size() / inner.capacity : 0));
  }

  get capacity(): number {
    return this.inner.capacity;
  }

  get transactionCapacity(): number {
    return this.inner.transactionCapacity;
  }

  size(): number {
    return this.inner.size();
  }

  status(): Record<string, number> {
    return this.inner.status?.() ?? {};
  }

  async start(): Promise<void> {
    await this.inner.start?.();
  }

  async stop(): Promise<void> {
    await this.inner.stop?.();
  }

  beginPut(): PutTransaction {
    const tx = this.inner.beginPut();
    let n = 0;
    return {
      put: (events) => {
        this.stats.add('put_attempts_total', events.length);
        tx.put(events);
        n += events.length;
      },
      commit: async () => {
        await tx.commit();
        this.stats.add('put_success_total', n);
      },
      rollback: () => tx.rollback(),
    };
  }

  async take(max: number, waitMs: number, signal?: AbortSignal): Promise<TakeTransaction> {
    const tx = await this.inner.take(max, waitMs, signal);
    this.stats.add('take_attempts_total', Math.max(1, tx.events.length));
    if (tx.events.length === 0) return tx;
    return {
      events: tx.events,
      commit: async () => {
        await tx.commit();
        this.stats.add('take_success_total', tx.events.length);
      },
      rollback: () => tx.rollback(),
    };
  }

  /**
   * Puts events in transactions of at most transactionCapacity, retrying retriable failures (a full channel) with
   * backoff until they commit or `signal` aborts (then StoppingError: the caller must not acknowledge).
   */
  async putAll(events: readonly Event[], signal: AbortSignal, onRetry?: (error: unknown) => void): Promise<void> {
    const backoff = new Backoff(250, 4000);
    const step = this.transactionCapacity;
    for (let i = 0; i < events.length; ) {
      const chunk = events.length <= step && i === 0 ? events : events.slice(i, i + step);
      const tx = this.beginPut();
      try {
        tx.put(chunk);
        await tx.commit();
        i += chunk.length;
        backoff.reset();
      } catch (error) {
        tx.rollback();
        if (!isRetriable(error)) throw error instanceof AgentError ? error : new AgentError(ErrorCodes.SINK_WRITE, (error as Error).message, { cause: error });
        onRetry?.(error);
        if (!(await backoff.wait(signal))) throw new StoppingError();
      }
    }
  }
}

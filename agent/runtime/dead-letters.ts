/**
 * Dead letters: an event a component rejects permanently goes to the agent's dead-letter channel with headers
 * naming the component, the reason and the time. Without a dead-letter channel it is counted, logged
 * (rate-limited) and dropped. Never silently, and never blocking the pipeline.
 */
import type { Logger } from 'pino';
import { Event } from '../event.ts';
import { RateLimiter } from '../log.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import { isRetriable } from '../errors.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';

export const DL_HEADERS = { component: 'dl.component', reason: 'dl.reason', detail: 'dl.detail', time: 'dl.time' } as const;

export interface Rejected {
  event: Event;
  reason: string;
  detail?: string;
}

export class DeadLetters {
  private readonly limiter = new RateLimiter(10_000);

  constructor(
    private readonly channel: InstrumentedChannel | undefined,
    private readonly channelName: string | undefined,
    private readonly log: Logger,
  ) {}

  get configured(): boolean {
    return this.channel !== undefined;
  }

  /** Marks events with where and why they were rejected (copies: the original may still be in flight). */
  static wrap(component: string, rejected: readonly Rejected[]): Event[] {
    const time = new Date().toISOString();
    return rejected.map(({ event, reason, detail }) => {
      const e = event.clone();
      e.headers[DL_HEADERS.component] = component;
      e.headers[DL_HEADERS.reason] = reason;
      e.headers[DL_HEADERS.time] = time;
      if (detail) e.headers[DL_HEADERS.detail] = detail.length > 1000 ? `${detail.slice(0, 1000)}…` : detail;
      return e;
    });
  }

  /**
   * Puts rejected events into the dead-letter channel (in transactions it can hold, retrying while it is full
   * until `signal`, the caller's own stop signal, aborts), or counts and drops them when there is none or it
   * refuses them for good. Counted on the rejecting component either way.
   */
  async send(stats: ComponentStats, rejected: readonly Rejected[], signal: AbortSignal): Promise<void> {
    if (rejected.length === 0) return;
    const byReason = new Map<string, number>();
    for (const r of rejected) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
    if (!this.channel) {
      for (const [reason, n] of byReason) {
        stats.droppedEvents(reason, n);
        const suppressed = this.limiter.allow(`${stats.name}:${reason}`);
        if (suppressed >= 0) {
          this.log.warn({ component: stats.name, reason, events: n, suppressed, detail: rejected.find((r) => r.reason === reason)?.detail }, 'Events rejected and dropped: no deadLetter channel is configured.');
        }
      }
      return;
    }
    const events = DeadLetters.wrap(stats.name, rejected);
    try {
      await this.channel.putAll(events, signal);
      for (const [reason, n] of byReason) stats.deadLettered(reason, n);
    } catch (error) {
      for (const [reason, n] of byReason) stats.droppedEvents(`dead-letter-unavailable:${reason}`, n);
      this.log.error(
        { channel: this.channelName, events: events.length, error: (error as Error).message, stopping: isRetriable(error) },
        'Dead-letter channel did not take rejected events (the component is stopping, or the channel refused them); they were dropped and counted.',
      );
    }
  }
}

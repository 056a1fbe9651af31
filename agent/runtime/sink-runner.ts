/**
 * Drains one channel into one sink: take a batch, write it, commit only after the destination acknowledged it.
 * On a retriable failure the batch is rolled back (redelivered first, in order) and the runner backs off
 * exponentially; a permanent failure sends the batch, and any events the sink reports as rejected, to dead
 * letters so one poison event never blocks the channel.
 */
import type { Logger } from 'pino';
import { errorMessage, isRetriable } from '../errors.ts';
import { RateLimiter } from '../log.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { Sink } from '../types.ts';
import { Backoff } from './backoff.ts';
import { DeadLetters } from './dead-letters.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';

export interface SinkRunnerOptions {
  sink: Sink;
  channel: InstrumentedChannel;
  batchSize: number;
  stats: ComponentStats;
  deadLetters: DeadLetters;
  log: Logger;
  /** How long one take waits for events before the sink gets an idle() call. */
  pollMs?: number;
}

export class SinkRunner {
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private draining = false;
  private readonly backoff = new Backoff(100, 10_000);
  private readonly limiter = new RateLimiter();

  constructor(private readonly o: SinkRunnerOptions) {}

  async start(): Promise<void> {
    this.o.stats.startTime = Date.now();
    this.loop = this.startSink().then((ok) => (ok ? this.run() : undefined));
  }

  /** A destination that is down at start is retried with backoff; the rest of the agent starts meanwhile. */
  private async startSink(): Promise<boolean> {
    const backoff = new Backoff(500, 30_000);
    for (;;) {
      try {
        await this.o.sink.start?.();
        this.o.stats.state = 'running';
        return true;
      } catch (error) {
        this.o.stats.state = 'failed';
        this.o.stats.error('starting', errorMessage(error));
        if (this.limiter.allow('start') >= 0) this.o.log.error({ error: errorMessage(error) }, 'Sink failed to start; retrying after a backoff.');
        if (!(await backoff.wait(this.controller.signal))) return false;
      }
    }
  }

  private async run(): Promise<void> {
    const { channel, batchSize, stats } = this.o;
    const signal = this.controller.signal;
    const pollMs = this.o.pollMs ?? 1000;
    while (!signal.aborted) {
      if (this.draining && channel.size() === 0) return;
      const tx = await channel.take(batchSize, this.draining ? 50 : pollMs, signal);
      const events = tx.events;
      if (events.length === 0) {
        stats.add('batches_empty_total');
        await this.idle();
        continue;
      }
      stats.add('events_drain_attempts_total', events.length);
      const started = performance.now();
      try {
        const result = await this.o.sink.write(events);
        const rejected = result && result.rejected ? result.rejected : [];
        if (rejected.length) await this.o.deadLetters.send(stats, rejected, signal);
        await tx.commit();
        this.delivered(events.length - rejected.length, events, started);
        this.backoff.reset();
      } catch (error) {
        if (!isRetriable(error)) {
          // The destination will never take this batch: dead-letter it rather than block the channel forever.
          await this.o.deadLetters.send(stats, events.map((event) => ({ event, reason: 'sink-rejected', detail: errorMessage(error) })), signal);
          await tx.commit();
          stats.error('sending', errorMessage(error));
          continue;
        }
        await tx.rollback();
        stats.add('write_failures_total');
        stats.add('rollbacks_total', events.length);
        stats.error('sending', errorMessage(error));
        const suppressed = this.limiter.allow('write');
        if (suppressed >= 0) this.o.log.warn({ error: errorMessage(error), events: events.length, attempt: this.backoff.consecutive + 1, suppressed }, 'Sink write failed; batch rolled back, retrying after backoff.');
        if (!(await this.backoff.wait(signal))) return;
      }
    }
  }

  private delivered(n: number, events: readonly { ingestTime: number }[], started: number): void {
    const { stats, batchSize } = this.o;
    const now = Date.now();
    stats.add('events_drained_total', n);
    stats.add(events.length >= batchSize ? 'batches_complete_total' : 'batches_underflow_total');
    stats.batchDuration.observe((performance.now() - started) / 1000);
    const age = stats.eventAge;
    for (let i = 0; i < events.length; i++) age.observe((now - events[i]!.ingestTime) / 1000);
  }

  private async idle(): Promise<void> {
    try {
      await this.o.sink.idle?.();
    } catch (error) {
      this.o.stats.error('idle', errorMessage(error));
      if (this.limiter.allow('idle') >= 0) this.o.log.warn({ error: errorMessage(error) }, 'Sink idle work failed.');
    }
  }

  /**
   * Drains what the channel holds until it is empty or `deadline` passes, then stops the loop and the sink.
   * Events still in the channel stay there (a durable channel keeps them for the next start).
   */
  async stop(deadline: number): Promise<void> {
    this.draining = true;
    const left = deadline - Date.now();
    const timer = setTimeout(() => this.controller.abort(), Math.max(0, left));
    // A write hung on a dead destination must not hold the stop forever: give it a short grace past the deadline.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, Math.max(0, left) + 5000).unref())]);
    clearTimeout(timer);
    this.controller.abort();
    try {
      await this.o.sink.stop?.();
    } catch (error) {
      this.o.stats.error('stop', errorMessage(error));
      this.o.log.error({ error: errorMessage(error) }, 'Sink failed to stop cleanly.');
    }
    this.o.stats.state = 'stopped';
    this.o.stats.stopTime = Date.now();
  }
}

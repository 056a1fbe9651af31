/**
 * Runs one source under supervision and gives it `emit`: processors, then the selector, then a put per channel.
 * A batch is acknowledged only when every required channel committed; a channel that is full is retried with
 * backoff (the source waits, so it stops reading: backpressure), and channels that already committed this batch
 * are not written again on the retry. A source that crashes is rebuilt and restarted after a backoff.
 */
import type { Logger } from 'pino';
import { AgentError, ChannelFullError, StoppingError, errorMessage } from '../errors.ts';
import { RateLimiter } from '../log.ts';
import type { Event } from '../event.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { ComponentContext, Source, SourceRunContext } from '../types.ts';
import { Backoff } from './backoff.ts';
import { DeadLetters, type Rejected } from './dead-letters.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';
import type { ProcessorChain } from './processor-chain.ts';
import type { Selector } from './selector.ts';

export interface SourceRunnerOptions {
  ctx: ComponentContext;
  stats: ComponentStats;
  create: (ctx: ComponentContext) => Promise<Source>;
  chain: ProcessorChain;
  selector: Selector;
  channels: Map<string, InstrumentedChannel>;
  deadLetters: DeadLetters;
  log: Logger;
}

export class SourceRunner {
  private readonly controller = new AbortController();
  /**
   * Aborted only when a stop's timeout runs out. A batch that already went through the processors keeps putting
   * until then (the sinks still drain while sources stop), so stateful processors never count a batch the channels
   * did not take: a stop that abandoned it would have it re-read, and counted again, after the restart.
   */
  private readonly drain = new AbortController();
  private readonly putWarnings = new RateLimiter();
  private loop: Promise<void> | undefined;
  private source: Source | undefined;

  constructor(private readonly o: SourceRunnerOptions) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    const { stats } = this.o;
    stats.startTime = Date.now();
    this.loop = this.supervise();
  }

  private async supervise(): Promise<void> {
    const { stats, log } = this.o;
    const backoff = new Backoff(1000, 30_000);
    while (!this.signal.aborted) {
      try {
        this.source = await this.o.create(this.runContext());
        stats.state = 'running';
        await this.source.run(this.runContext());
        if (!this.signal.aborted) {
          stats.state = 'completed';
          log.info('Source finished its input.');
        }
        return;
      } catch (error) {
        if (this.signal.aborted) return;
        stats.state = 'failed';
        stats.error('source', errorMessage(error));
        stats.add('restarts_total');
        log.error({ error: errorMessage(error) }, 'Source failed; restarting it after a backoff.');
        await this.closeSource();
        await backoff.wait(this.signal);
      }
    }
  }

  private runContext(): SourceRunContext {
    return {
      ...this.o.ctx,
      signal: this.signal,
      emit: (events) => this.emit(events),
      deadLetter: (events, reason, detail) => {
        this.o.stats.add('read_failures_total', events.length);
        void this.o.deadLetters.send(this.o.stats, events.map((event) => ({ event, reason, detail })), this.drain.signal);
      },
    };
  }

  /** The ChannelProcessor: one batch from processors to committed channels. */
  async emit(input: Event[]): Promise<void> {
    const { stats, chain, selector, channels, log } = this.o;
    if (this.signal.aborted) throw new StoppingError();
    const started = performance.now();
    stats.add('events_received_total', input.length);
    stats.add('batches_received_total');
    const { events, derived, rejected } = await chain.run(input);
    const signal = this.drain.signal;
    await this.sendRejected(rejected, signal);
    const { required, optional, unrouted } = selector(events);
    if (unrouted?.length) await this.o.deadLetters.send(stats, unrouted.map((event) => ({ event, reason: 'unrouted', detail: 'no selector mapping and no default channel for this event' })), signal);
    for (const [channel, list] of derived) {
      const existing = required.get(channel);
      required.set(channel, existing ? [...existing, ...list] : list);
    }
    const pending = [...required].filter(([, list]) => list.length > 0);
    const onRetry = (error: unknown) => {
      stats.add('channel_write_failures_total');
      // A full channel is ordinary backpressure; anything else (a disk below minimumRequiredSpace) needs an operator.
      if (error instanceof ChannelFullError) return void log.debug({ error: errorMessage(error) }, 'Channel full; backing off.');
      const code = error instanceof AgentError ? error.code : 'channel';
      stats.error('channel', errorMessage(error));
      const suppressed = this.putWarnings.allow(code);
      if (suppressed >= 0) log.warn({ error: errorMessage(error), code, suppressed }, 'Channel refused the batch; the source waits and retries.');
    };
    for (const [name, list] of pending) await channels.get(name)!.putAll(list, signal, onRetry);
    for (const [name, list] of optional) {
      try {
        const tx = channels.get(name)!.beginPut();
        tx.put(list);
        await tx.commit().catch((error) => {
          tx.rollback();
          throw error;
        });
      } catch (error) {
        stats.error('optional-channel', errorMessage(error));
        log.warn({ channel: name, events: list.length, error: errorMessage(error) }, 'Optional channel rejected a batch; it was skipped.');
      }
    }
    stats.add('events_accepted_total', events.length);
    stats.add('batches_accepted_total');
    stats.batchDuration.observe((performance.now() - started) / 1000);
  }

  private async sendRejected(rejected: Map<ComponentStats, Rejected[]>, signal: AbortSignal): Promise<void> {
    for (const [procStats, list] of rejected) await this.o.deadLetters.send(procStats, list, signal);
  }

  private async closeSource(): Promise<void> {
    try {
      await this.source?.close?.();
    } catch (error) {
      this.o.log.warn({ error: errorMessage(error) }, 'Source close failed.');
    }
    this.source = undefined;
  }

  /**
   * Stops the source: it reads no more, a batch already processed finishes its put (the sinks still drain), and
   * the source is closed. Within `timeoutMs` at most: then the put is abandoned (not acknowledged) and a source
   * that ignores the abort is closed anyway.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([this.loop?.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
    clearTimeout(timer);
    this.drain.abort();
    if (late) this.o.log.error({ timeoutMs }, 'Source did not return from run() after the stop signal; closing it anyway.');
    await this.closeSource();
    if (this.o.stats.state !== 'failed') this.o.stats.state = 'stopped';
    this.o.stats.stopTime = Date.now();
  }
}

/**
 * One sink as a SinkRunner drives it: the plugin object with its stats and log. A lone sink is a group of one.
 * Each member starts on its own, retrying with backoff, so a destination that is down at start blocks neither the
 * agent nor its group mates; until it has started, the runner offers it no batch.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { RateLimiter } from '../log.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { Sink } from '../types.ts';
import { Backoff } from './backoff.ts';

export class SinkMember {
  private isReady = false;
  private markReady!: () => void;
  /** Resolves once the sink has started. */
  readonly started = new Promise<void>((resolve) => (this.markReady = resolve));
  private readonly limiter = new RateLimiter();

  constructor(
    readonly name: string,
    readonly sink: Sink,
    readonly stats: ComponentStats,
    readonly log: Logger,
  ) {}

  get ready(): boolean {
    return this.isReady;
  }

  /** Starts the sink, retrying with backoff until it starts or `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.stats.startTime = Date.now();
    const backoff = new Backoff(500, 30_000);
    for (;;) {
      try {
        await this.sink.start?.();
        this.stats.state = 'running';
        this.isReady = true;
        this.markReady();
        return;
      } catch (error) {
        this.stats.state = 'failed';
        this.stats.error('starting', errorMessage(error));
        if (this.limiter.allow('start') >= 0) this.log.error({ error: errorMessage(error) }, 'Sink failed to start; retrying after a backoff.');
        if (!(await backoff.wait(signal))) return;
      }
    }
  }

  /** Counts a write that failed with a retriable error and says (rate-limited) where the batch goes next. */
  writeFailed(error: unknown, events: number, attempt: number, next: SinkMember | undefined): void {
    this.stats.add('write_failures_total');
    this.stats.add('rollbacks_total', events);
    this.stats.error('sending', errorMessage(error));
    const suppressed = this.limiter.allow('write');
    if (suppressed < 0) return;
    const fields = { error: errorMessage(error), events, attempt, suppressed };
    if (next) this.log.warn({ ...fields, next: next.name }, `Sink write failed; the group hands the batch to sink "${next.name}".`);
    else this.log.warn(fields, 'Sink write failed; batch rolled back, retrying after backoff.');
  }

  async idle(): Promise<void> {
    try {
      await this.sink.idle?.();
    } catch (error) {
      this.stats.error('idle', errorMessage(error));
      if (this.limiter.allow('idle') >= 0) this.log.warn({ error: errorMessage(error) }, 'Sink idle work failed.');
    }
  }

  async stop(): Promise<void> {
    try {
      await this.sink.stop?.();
    } catch (error) {
      this.stats.error('stop', errorMessage(error));
      this.log.error({ error: errorMessage(error) }, 'Sink failed to stop cleanly.');
    }
    this.stats.state = 'stopped';
    this.stats.stopTime = Date.now();
  }
}

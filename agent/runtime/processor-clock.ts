/**
 * What processors do outside a source's batch: `tick` on the agent's clock (windows that close on processing
 * time, or after the input went quiet) and `stop` (emit or persist open state). What they emit there is put into
 * the channels directly, with the channels' own retries, and what they reject goes to dead letters; a failing
 * callback is counted and logged, never allowed to stop the agent.
 */
import { errorMessage } from '../errors.ts';
import type { ProcessContext } from '../types.ts';
import type { DeadLetters } from './dead-letters.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';
import type { ProcessorInstance } from './processor-chain.ts';

/** The part of the running agent the clock works with (the agent itself). */
export interface ClockHost {
  readonly processors: ReadonlyMap<string, ProcessorInstance>;
  readonly channels: ReadonlyMap<string, InstrumentedChannel>;
  readonly deadLetters: DeadLetters;
}

export class ProcessorClock {
  private readonly tickers = new Map<string, NodeJS.Timeout>();
  private readonly ticking = new Set<Promise<void>>();

  constructor(
    private readonly host: ClockHost,
    /** Read at each resume, so a reload that changed tickInterval takes effect. */
    private readonly intervalMs: () => number,
    /** Aborted when the agent stops for good: puts of a tick in flight give up then. */
    private readonly signal: AbortSignal,
  ) {}

  /** Stops the clocks and waits for the ticks in flight (their puts included). */
  async pause(): Promise<void> {
    for (const t of this.tickers.values()) clearInterval(t);
    this.tickers.clear();
    await Promise.all([...this.ticking]);
  }

  /** Starts a clock for every processor with a tick that has none yet. */
  resume(): void {
    for (const [name, p] of this.host.processors) if (p.processor.tick && !this.tickers.has(name)) this.tickers.set(name, this.ticker(p));
  }

  /** Calls a processor's `stop` (within `signal`), so it can emit or persist its open state. */
  async stop(p: ProcessorInstance, signal: AbortSignal): Promise<void> {
    if (p.processor.stop) await this.direct(p, 'stop', (pctx) => p.processor.stop!(pctx), signal);
  }

  /** Calls a processor's tick every interval, skipping a beat while the previous tick still runs. */
  private ticker(p: ProcessorInstance): NodeJS.Timeout {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const run = this.direct(p, 'tick', (pctx) => p.processor.tick!(Date.now(), pctx), this.signal).finally(() => {
        busy = false;
        this.ticking.delete(run);
      });
      this.ticking.add(run);
    }, this.intervalMs());
    timer.unref();
    return timer;
  }

  private async direct(p: ProcessorInstance, what: string, call: (pctx: ProcessContext) => unknown, signal: AbortSignal): Promise<void> {
    const puts: Promise<void>[] = [];
    const pctx: ProcessContext = {
      ...p.ctx,
      emitTo: (channels, events) => {
        p.stats.add('events_emitted_total', events.length * channels.length);
        for (const c of channels) puts.push(this.host.channels.get(c)!.putAll(events, signal));
      },
      deadLetter: (event, reason, detail) => void puts.push(this.host.deadLetters.send(p.stats, [{ event, reason, detail }], signal)),
    };
    try {
      await call(pctx);
      await Promise.all(puts);
    } catch (error) {
      p.stats.error(what, errorMessage(error));
      p.ctx.log.error({ error: errorMessage(error) }, `Processor failed in ${what}.`);
    }
  }
}

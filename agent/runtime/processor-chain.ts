/**
 * Runs a source's processors in order on a batch. Each processor gets a context that collects derived events for
 * named channels and per-event rejections; the source runner commits the derived events with the batch and sends
 * the rejections to dead letters. A processor that throws on a batch does not crash the source: the batch goes to
 * dead letters with reason "processor-error" and the error is counted.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import type { Event } from '../event.ts';
import { RateLimiter } from '../log.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { ComponentContext, ProcessContext, Processor } from '../types.ts';
import type { Rejected } from './dead-letters.ts';

export interface ProcessorInstance {
  processor: Processor;
  ctx: ComponentContext;
  stats: ComponentStats;
}

export interface ChainResult {
  events: Event[];
  derived: Map<string, Event[]>;
  rejected: Map<ComponentStats, Rejected[]>;
}

export class ProcessorChain {
  private readonly limiter = new RateLimiter();

  constructor(
    private readonly processors: readonly ProcessorInstance[],
    private readonly log: Logger,
  ) {}

  async run(input: Event[]): Promise<ChainResult> {
    const derived = new Map<string, Event[]>();
    const rejected = new Map<ComponentStats, Rejected[]>();
    let events = input;
    for (const p of this.processors) {
      if (events.length === 0) break;
      let rejectedHere: Rejected[] = [];
      // Derived events count only if the processor finishes the batch: a throw discards them with the batch.
      const emitted: [readonly string[], Event[]][] = [];
      const pctx: ProcessContext = {
        ...p.ctx,
        emitTo(channels, out) {
          emitted.push([channels, out.slice()]);
        },
        deadLetter(event, reason, detail) {
          rejectedHere.push({ event, reason, detail });
        },
      };
      const started = performance.now();
      p.stats.add('events_in_total', events.length);
      try {
        let out = await p.processor.process(events, pctx);
        if (rejectedHere.length) {
          // A processor may return the input array unchanged after dead-lettering some events: remove them here.
          const dead = new Set(rejectedHere.map((r) => r.event));
          out = out.filter((e) => !dead.has(e));
        }
        events = out;
        for (const [channels, out] of emitted) {
          p.stats.add('events_emitted_total', out.length * channels.length);
          for (const c of channels) {
            const list = derived.get(c);
            if (list) for (const e of out) list.push(e);
            else derived.set(c, out.slice());
          }
        }
      } catch (error) {
        p.stats.error('processing', errorMessage(error));
        if (this.limiter.allow(p.ctx.name) >= 0) p.ctx.log.error({ error: errorMessage(error), events: events.length }, 'Processor failed on a batch; the batch goes to dead letters.');
        rejectedHere = events.map((event) => ({ event, reason: 'processor-error', detail: errorMessage(error) }));
        events = [];
      }
      p.stats.add('events_out_total', events.length);
      p.stats.batchDuration.observe((performance.now() - started) / 1000);
      if (rejectedHere.length) rejected.set(p.stats, rejectedHere);
    }
    return { events, derived, rejected };
  }

  get instances(): readonly ProcessorInstance[] {
    return this.processors;
  }
}

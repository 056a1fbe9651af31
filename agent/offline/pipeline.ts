/**
 * An agent's processors without its sources, channels or sinks: events go in at a named source (through that
 * source's processor chain and selector) or at one processor, and what would have been committed to each channel
 * is collected in memory. `fintrans-agent test` and `replay` run on it, so rules and windows are checked without
 * any server, lock or file the real pipeline would need. The processors are the real plugins, built from the same
 * validated config.
 */
import type { Logger } from 'pino';
import { AgentError, ErrorCodes } from '../errors.ts';
import type { Event } from '../event.ts';
import type { ResolvedAgent, ResolvedComponent } from '../config/validate.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { DeadLetters, type Rejected } from '../runtime/dead-letters.ts';
import { ProcessorChain, type ProcessorInstance } from '../runtime/processor-chain.ts';
import { createSelector, type Selector } from '../runtime/selector.ts';
import type { ComponentContext, ProcessContext } from '../types.ts';

/** Where collected dead letters appear when the agent configures no dead-letter channel. */
export const DEAD_LETTERS = 'deadLetters';

export type Entry = { source: string } | { processor: string };

export class OfflinePipeline {
  /** Events per channel name, in commit order; dead letters under the agent's dead-letter channel or DEAD_LETTERS. */
  readonly outputs = new Map<string, Event[]>();
  /** Events that passed through when the entry was a single processor. */
  readonly passed: Event[] = [];
  readonly deadLetterChannel: string;

  private constructor(
    readonly agent: ResolvedAgent,
    private readonly processors: Map<string, ProcessorInstance>,
    private readonly controller: AbortController,
    private readonly log: Logger,
  ) {
    this.deadLetterChannel = agent.deadLetterChannel ?? DEAD_LETTERS;
  }

  /**
   * Builds the agent's processors without their `stateDir` (the convention for where state is persisted across
   * restarts): a test or replay never reads or overwrites the real pipeline's state, and a stop emits open windows
   * (marked partial) instead of persisting them, so they can be checked.
   */
  static async create(agent: ResolvedAgent, configDir: string, log: Logger): Promise<OfflinePipeline> {
    const metrics = new MetricsRegistry(false);
    const controller = new AbortController();
    const processors = new Map<string, ProcessorInstance>();
    for (const original of agent.processors) {
      const { stateDir: _persisted, ...config } = original.config;
      const c = 'stateDir' in original.config ? { ...original, config: Object.freeze(config) } : original;
      const stats = metrics.component(agent.name, c.name, 'processor', c.type);
      const ctx: ComponentContext = {
        agent: agent.name, name: c.name, kind: 'processor', type: c.type, configDir, metrics: stats, signal: controller.signal,
        log: log.child({ agent: agent.name, component: c.name, kind: 'processor', type: c.type }),
      };
      processors.set(c.name, { processor: await c.def.create(c.config, ctx), ctx, stats } as ProcessorInstance);
    }
    return new OfflinePipeline(agent, processors, controller, log);
  }

  /** Names a test may feed: sources (their processor chain and selector) and processors. */
  entries(): { sources: string[]; processors: string[] } {
    return { sources: this.agent.sources.map((s) => s.name), processors: [...this.processors.keys()] };
  }

  /** The source whose processor chain a replay runs when none is named: the only one with processors. */
  defaultSource(): string {
    const withProcessors = this.agent.sources.filter((s) => (s.config.processors ?? []).length > 0);
    if (withProcessors.length === 1) return withProcessors[0]!.name;
    if (this.agent.sources.length === 1) return this.agent.sources[0]!.name;
    throw new AgentError(ErrorCodes.USAGE, `Agent "${this.agent.name}" has ${withProcessors.length} sources with processors (${withProcessors.map((s) => s.name).join(', ') || 'none'}): choose one with --source.`);
  }

  async feed(entry: Entry, events: Event[]): Promise<void> {
    if ('source' in entry) {
      const source = this.component(this.agent.sources, entry.source, 'source');
      const chain = new ProcessorChain((source.config.processors ?? []).map((p: string) => this.processors.get(p)!), this.log);
      const { events: out, derived, rejected } = await chain.run(events);
      this.reject(rejected);
      const selector: Selector = createSelector(source.config.channels, source.config.selector);
      const { required, optional, unrouted } = selector(out);
      if (unrouted?.length) this.collect(this.deadLetterChannel, DeadLetters.wrap(source.name, unrouted.map((event) => ({ event, reason: 'unrouted' }))));
      for (const [channel, list] of [...required, ...optional]) this.collect(channel, list);
      for (const [channel, list] of derived) this.collect(channel, list);
    } else {
      const p = this.processors.get(entry.processor);
      if (!p) throw this.unknown('processor', entry.processor, [...this.processors.keys()]);
      const { events: out, derived, rejected } = await new ProcessorChain([p], this.log).run(events);
      this.reject(rejected);
      this.passed.push(...out);
      for (const [channel, list] of derived) this.collect(channel, list);
    }
  }

  /** Hands over what was collected so far and forgets it, so a long replay holds one batch's output at a time. */
  drain(): Map<string, Event[]> {
    const out = new Map(this.outputs);
    this.outputs.clear();
    this.passed.length = 0;
    return out;
  }

  /** Gives every time-driven processor the clock, as the agent does about once a second. */
  async tick(nowMs: number): Promise<void> {
    for (const p of this.processors.values()) if (p.processor.tick) await p.processor.tick(nowMs, this.direct(p));
  }

  /** A graceful stop: processors emit or persist their open state. */
  async stop(): Promise<void> {
    this.controller.abort();
    for (const p of this.processors.values()) if (p.processor.stop) await p.processor.stop(this.direct(p));
  }

  private direct(p: ProcessorInstance): ProcessContext {
    return {
      ...p.ctx,
      emitTo: (channels, events) => {
        for (const c of channels) this.collect(c, events);
      },
      deadLetter: (event, reason, detail) => this.collect(this.deadLetterChannel, DeadLetters.wrap(p.ctx.name, [{ event, reason, detail }])),
    };
  }

  private reject(rejected: Map<{ name: string }, Rejected[]>): void {
    for (const [stats, list] of rejected) this.collect(this.deadLetterChannel, DeadLetters.wrap(stats.name, list));
  }

  private collect(channel: string, events: readonly Event[]): void {
    const list = this.outputs.get(channel);
    if (list) for (const e of events) list.push(e);
    else this.outputs.set(channel, events.slice());
  }

  private component(list: ResolvedComponent[], name: string, kind: string): ResolvedComponent {
    const found = list.find((c) => c.name === name);
    if (!found) throw this.unknown(kind, name, list.map((c) => c.name));
    return found;
  }

  private unknown(kind: string, name: string, known: string[]): AgentError {
    return new AgentError(ErrorCodes.USAGE, `Agent "${this.agent.name}" has no ${kind} "${name}". Its ${kind}s: ${known.join(', ') || 'none'}.`);
  }
}

/**
 * One running agent: builds its components from validated config through their plugins' factories, starts them
 * (channels, then sinks and sink groups, then sources), and stops them gracefully in the reverse order: sources
 * stop (in-flight batches are not acknowledged), processors flush their state, sinks drain their channels within
 * shutdownTimeout, then channels close (a durable channel keeps what is left).
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { ResolvedAgent, ResolvedComponent, ResolvedSinkGroup } from '../config/validate.ts';
import type { Channel, ComponentContext, ComponentKind, ProcessContext, Processor, Sink, Source } from '../types.ts';
import { DeadLetters } from './dead-letters.ts';
import { InstrumentedChannel } from './instrumented-channel.ts';
import { ProcessorChain, type ProcessorInstance } from './processor-chain.ts';
import { createSelector } from './selector.ts';
import { createSinkPolicy } from './sink-group.ts';
import { SinkMember } from './sink-group-member.ts';
import { SinkGroupStats, registerSinkGroup, unregisterSinkGroup } from './sink-group-stats.ts';
import { SinkRunner } from './sink-runner.ts';
import { SourceRunner } from './source-runner.ts';

export interface AgentOptions {
  metrics: MetricsRegistry;
  log: Logger;
  configDir: string;
}

export class Agent {
  readonly channels = new Map<string, InstrumentedChannel>();
  readonly processors = new Map<string, ProcessorInstance>();
  /** Runners of the sinks that are in no group. */
  readonly sinks = new Map<string, SinkRunner>();
  /** One runner per sink group, draining the members' shared channel. */
  readonly sinkGroups = new Map<string, SinkRunner>();
  private readonly groupStats: SinkGroupStats[] = [];
  readonly sources = new Map<string, SourceRunner>();
  private readonly controller = new AbortController();
  private deadLetters!: DeadLetters;
  private started = false;
  private readonly tickers: NodeJS.Timeout[] = [];

  private constructor(
    readonly config: ResolvedAgent,
    private readonly o: AgentOptions,
  ) {}

  static async build(config: ResolvedAgent, o: AgentOptions): Promise<Agent> {
    const agent = new Agent(config, o);
    try {
      await agent.buildAll();
    } catch (error) {
      // Release what was already built (locks, files) so a corrected config can be started in the same process.
      for (const [, ch] of agent.channels) await ch.stop().catch(() => undefined);
      for (const s of o.metrics.components.filter((c) => c.agent === config.name)) o.metrics.remove(s);
      for (const g of agent.groupStats) unregisterSinkGroup(o.metrics, g);
      throw error;
    }
    return agent;
  }

  private context(c: ResolvedComponent, kind: ComponentKind): { ctx: ComponentContext; stats: ComponentStats } {
    const stats = this.o.metrics.component(this.config.name, c.name, kind, c.type);
    const log = this.o.log.child({ agent: this.config.name, component: c.name, kind, type: c.type });
    const ctx: ComponentContext = { agent: this.config.name, name: c.name, kind, type: c.type, log, configDir: this.o.configDir, signal: this.controller.signal, metrics: stats };
    return { ctx, stats };
  }

  private async buildAll(): Promise<void> {
    const { config, o } = this;
    for (const c of config.channels) {
      const { ctx, stats } = this.context(c, 'channel');
      const inner = (await c.def.create(c.config, ctx)) as Channel;
      this.channels.set(c.name, new InstrumentedChannel(c.name, inner, stats));
    }
    const dl = config.deadLetterChannel;
    this.deadLetters = new DeadLetters(dl ? this.channels.get(dl) : undefined, dl, o.log.child({ agent: config.name }));
    for (const c of config.processors) {
      const { ctx, stats } = this.context(c, 'processor');
      this.processors.set(c.name, { processor: (await c.def.create(c.config, ctx)) as Processor, ctx, stats });
    }
    const groupOf = new Map(config.sinkGroups.flatMap((g) => g.sinks.map((k) => [k, g.name] as const)));
    const members = new Map<string, { member: SinkMember; batchSize: number; channel: string }>();
    for (const c of config.sinks) {
      const { ctx, stats } = this.context(c, 'sink');
      const sink = (await c.def.create(c.config, ctx)) as Sink;
      const batchSize = typeof c.config.batchSize === 'number' ? c.config.batchSize : 100;
      const sinkGroup = groupOf.get(c.name);
      if (sinkGroup) members.set(c.name, { member: new SinkMember(c.name, sink, stats, ctx.log.child({ sinkGroup })), batchSize, channel: c.config.channel });
      else this.sinks.set(c.name, new SinkRunner({ sink, channel: this.channels.get(c.config.channel)!, batchSize, stats, deadLetters: this.deadLetters, log: ctx.log }));
    }
    for (const g of config.sinkGroups) this.sinkGroups.set(g.name, this.group(g, g.sinks.map((k) => members.get(k)!)));
    for (const c of config.sources) {
      const { ctx, stats } = this.context(c, 'source');
      const chain = new ProcessorChain((c.config.processors ?? []).map((p: string) => this.processors.get(p)!), ctx.log);
      this.sources.set(c.name, new SourceRunner({ ctx, stats, create: async (runCtx) => (await c.def.create(c.config, runCtx)) as Source, chain, selector: createSelector(c.config.channels, c.config.selector), channels: this.channels, deadLetters: this.deadLetters, log: ctx.log }));
    }
  }

  /** A group's runner: its members share one channel (checked at validation) and take its smallest batchSize. */
  private group(g: ResolvedSinkGroup, members: { member: SinkMember; batchSize: number; channel: string }[]): SinkRunner {
    const group = new SinkGroupStats(this.config.name, g.name, g.type, g.sinks);
    registerSinkGroup(this.o.metrics, group);
    this.groupStats.push(group);
    const policy = createSinkPolicy(g, (i) => group.penalties[i]!++);
    const channel = this.channels.get(members[0]!.channel)!;
    const batchSize = Math.min(...members.map((m) => m.batchSize));
    return new SinkRunner({ members: members.map((m) => m.member), policy, group, channel, batchSize, deadLetters: this.deadLetters });
  }

  async start(): Promise<void> {
    for (const [, ch] of this.channels) {
      await ch.start();
      ch.stats.state = 'running';
      ch.stats.startTime = Date.now();
    }
    for (const [, p] of this.processors) (p.stats.state = 'running'), (p.stats.startTime = Date.now());
    for (const s of [...this.sinks.values(), ...this.sinkGroups.values()]) await s.start();
    for (const [, p] of this.processors) if (p.processor.tick) this.tickers.push(this.ticker(p));
    for (const [, s] of this.sources) s.start();
    this.started = true;
    this.o.log.info({ agent: this.config.name, sources: this.sources.size, channels: this.channels.size, sinks: this.sinks.size, sinkGroups: this.sinkGroups.size }, 'Agent started.');
  }

  /** True while every component runs (a finished finite source counts as healthy). */
  healthy(): boolean {
    return this.o.metrics.components.filter((s) => s.agent === this.config.name).every((s) => s.state === 'running' || s.state === 'completed');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const log = this.o.log.child({ agent: this.config.name });
    await Promise.all([...this.sources.values()].map((s) => s.stop(this.config.shutdownTimeoutMs)));
    for (const t of this.tickers.splice(0)) clearInterval(t);
    await Promise.all([...this.ticking]);
    await this.flushProcessors();
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    await Promise.all([...this.sinks.values(), ...this.sinkGroups.values()].map((s) => s.stop(deadline)));
    this.controller.abort();
    for (const [name, ch] of this.channels) {
      const left = ch.size();
      if (left > 0) log.warn({ channel: name, events: left }, 'Channel still holds events at stop; a durable channel keeps them, a memory channel loses them.');
      try {
        await ch.stop();
      } catch (error) {
        log.error({ channel: name, error: errorMessage(error) }, 'Channel failed to stop cleanly.');
      }
      ch.stats.state = 'stopped';
      ch.stats.stopTime = Date.now();
    }
    for (const [, p] of this.processors) (p.stats.state = 'stopped'), (p.stats.stopTime = Date.now());
    log.info('Agent stopped.');
  }

  private readonly ticking = new Set<Promise<void>>();

  /** Calls a processor's tick every tickIntervalMs, skipping a beat while the previous tick still runs. */
  private ticker(p: ProcessorInstance): NodeJS.Timeout {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const run = this.direct(p, 'tick', (pctx) => p.processor.tick!(Date.now(), pctx), this.controller.signal).finally(() => {
        busy = false;
        this.ticking.delete(run);
      });
      this.ticking.add(run);
    }, this.config.tickIntervalMs);
    timer.unref();
    return timer;
  }

  /**
   * Runs a processor callback outside any source batch: what it emits is put into the channels directly (with the
   * channels' own retries until `signal` aborts) and what it rejects goes to dead letters.
   */
  private async direct(p: ProcessorInstance, what: string, call: (pctx: ProcessContext) => unknown, signal: AbortSignal): Promise<void> {
    const puts: Promise<void>[] = [];
    const pctx: ProcessContext = {
      ...p.ctx,
      emitTo: (channels, events) => {
        p.stats.add('events_emitted_total', events.length * channels.length);
        for (const c of channels) puts.push(this.channels.get(c)!.putAll(events, signal));
      },
      deadLetter: (event, reason, detail) => void puts.push(this.deadLetters.send(p.stats, [{ event, reason, detail }], signal)),
    };
    try {
      await call(pctx);
      await Promise.all(puts);
    } catch (error) {
      p.stats.error(what, errorMessage(error));
      p.ctx.log.error({ error: errorMessage(error) }, `Processor failed in ${what}.`);
    }
  }

  /** Lets stateful processors emit or persist open state after the sources stopped and before sinks drain. */
  private async flushProcessors(): Promise<void> {
    const deadline = AbortSignal.timeout(this.config.shutdownTimeoutMs);
    for (const [, p] of this.processors) {
      if (p.processor.stop) await this.direct(p, 'stop', (pctx) => p.processor.stop!(pctx), deadline);
    }
  }
}

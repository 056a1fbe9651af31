/**
 * One running agent: builds its components from validated config through their plugins' factories, starts them
 * (channels, then sinks and sink groups, then sources), and stops them gracefully in the reverse order: sources
 * stop (in-flight batches are not acknowledged), processors flush their state, sinks drain their channels within
 * shutdownTimeout, then channels close (a durable channel keeps what is left). `reload` swaps in a new config
 * component by component (reload-apply.ts decides the order); the methods marked "reload" serve it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { ResolvedAgent, ResolvedComponent } from '../config/validate.ts';
import type { Channel, ComponentContext, ComponentKind, Processor, Sink, Source } from '../types.ts';
import { DeadLetters } from './dead-letters.ts';
import { InstrumentedChannel } from './instrumented-channel.ts';
import { ProcessorChain, type ProcessorInstance } from './processor-chain.ts';
import { ProcessorClock } from './processor-clock.ts';
import { applyReload } from './reload-apply.ts';
import { sinkUnits, type ReloadPlan, type SinkUnit } from './reload-plan.ts';
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

/** A plugin object built from its config with its context, not yet wired into the running agent. */
export interface Built<T> {
  c: ResolvedComponent;
  value: T;
  ctx: ComponentContext;
  stats: ComponentStats;
  lifetime: AbortController;
}

export class Agent {
  readonly channels = new Map<string, InstrumentedChannel>();
  readonly processors = new Map<string, ProcessorInstance>();
  /** Runners of the sinks that are in no group. */
  readonly sinks = new Map<string, SinkRunner>();
  /** One runner per sink group, draining the members' shared channel. */
  readonly sinkGroups = new Map<string, SinkRunner>();
  readonly sources = new Map<string, SourceRunner>();
  private readonly groupStats = new Map<string, SinkGroupStats>();
  private readonly controller = new AbortController();
  /** Aborted as soon as stop() begins, so a reload still waiting on something gives up. */
  readonly stopping = new AbortController();
  /** The stats in use per `kind:name`; a component restarted with the same type keeps its stats (metrics continue). */
  private readonly statsInUse = new Map<string, ComponentStats>();
  /** Per running object: aborted (its ctx.signal) when that component is removed or replaced by a reload. */
  private readonly lifetimes = new WeakMap<object, AbortController[]>();
  deadLetters!: DeadLetters;
  private started = false;
  private readonly clock = new ProcessorClock(this, () => this.config.tickIntervalMs, this.controller.signal);
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    private current: ResolvedAgent,
    readonly o: AgentOptions,
  ) {}

  /** The configuration running now (the last one a reload applied). */
  get config(): ResolvedAgent {
    return this.current;
  }

  static async build(config: ResolvedAgent, o: AgentOptions): Promise<Agent> {
    const agent = new Agent(config, o);
    try {
      for (const c of config.channels) agent.installChannel(await agent.create<Channel>(c, 'channel'));
      agent.setDeadLetters(config.deadLetterChannel);
      for (const c of config.processors) agent.installProcessor(await agent.create<Processor>(c, 'processor'));
      const sinks = new Map<string, Built<Sink>>();
      for (const c of config.sinks) sinks.set(c.name, await agent.create<Sink>(c, 'sink'));
      for (const unit of sinkUnits(config).values()) agent.installUnit(unit, sinks);
      for (const c of config.sources) agent.installSource(c);
    } catch (error) {
      // Release what was already built (locks, files) so a corrected config can be started in the same process.
      for (const [, ch] of agent.channels) await ch.stop().catch(() => undefined);
      for (const s of o.metrics.components.filter((c) => c.agent === config.name)) o.metrics.remove(s);
      for (const [, g] of agent.groupStats) unregisterSinkGroup(o.metrics, g);
      throw error;
    }
    return agent;
  }

  /** A component's context; its stats are the running component's when kind and type stay (metrics continue). */
  private context(c: ResolvedComponent, kind: ComponentKind): Omit<Built<unknown>, 'c' | 'value'> {
    const prev = this.statsInUse.get(`${kind}:${c.name}`);
    const stats = prev && prev.type === c.type ? prev : this.o.metrics.component(this.config.name, c.name, kind, c.type);
    const lifetime = new AbortController();
    const log = this.o.log.child({ agent: this.config.name, component: c.name, kind, type: c.type });
    const ctx: ComponentContext = { agent: this.config.name, name: c.name, kind, type: c.type, log, configDir: this.o.configDir, signal: AbortSignal.any([this.controller.signal, lifetime.signal]), metrics: stats };
    return { ctx, stats, lifetime };
  }

  /** reload: builds a component's plugin object, not yet wired into the running agent. */
  async create<T>(c: ResolvedComponent, kind: ComponentKind): Promise<Built<T>> {
    const b = this.context(c, kind);
    try {
      return { ...b, c, value: (await c.def.create(c.config, b.ctx)) as T };
    } catch (error) {
      this.discard(b);
      throw error;
    }
  }

  /** reload: forgets a built object that will not be used (its stats too, unless the running component has them). */
  discard(b: Pick<Built<unknown>, 'stats'>): void {
    if (this.statsInUse.get(`${b.stats.kind}:${b.stats.name}`) !== b.stats) this.o.metrics.remove(b.stats);
  }

  private adopt(owner: object, b: Pick<Built<unknown>, 'stats' | 'lifetime'>): void {
    const key = `${b.stats.kind}:${b.stats.name}`;
    const prev = this.statsInUse.get(key);
    if (prev && prev !== b.stats) this.o.metrics.remove(prev);
    this.statsInUse.set(key, b.stats);
    this.lifetimes.set(owner, [...(this.lifetimes.get(owner) ?? []), b.lifetime]);
  }

  /** reload: aborts the ctx.signal of the components behind a running object that was stopped for good. */
  end(owner: object): void {
    for (const l of this.lifetimes.get(owner) ?? []) l.abort();
  }

  /** reload: a removed component's metrics disappear. */
  dropStats(kind: ComponentKind, name: string): void {
    const s = this.statsInUse.get(`${kind}:${name}`);
    if (s) this.o.metrics.remove(s);
    this.statsInUse.delete(`${kind}:${name}`);
  }

  installChannel(b: Built<Channel>): InstrumentedChannel {
    const ch = new InstrumentedChannel(b.c.name, b.value, b.stats);
    this.channels.set(b.c.name, ch);
    this.adopt(ch, b);
    return ch;
  }

  async startChannel(ch: InstrumentedChannel): Promise<void> {
    await ch.start();
    ch.stats.state = 'running';
    ch.stats.startTime = Date.now();
  }

  /**
   * Closes a channel; what a durable one holds stays on disk, what a memory one holds is lost (and said so).
   * `reopen`: a reload re-opens its storage right after, so nothing is left behind and its stats stay in use.
   */
  async closeChannel(ch: InstrumentedChannel, how: 'stop' | 'reopen' | 'replace' = 'stop'): Promise<void> {
    const left = ch.size();
    const log = this.o.log.child({ agent: this.config.name });
    if (left > 0 && how !== 'reopen') log.warn({ channel: ch.name, events: left }, 'Channel still holds events at stop; a durable channel keeps them, a memory channel loses them.');
    try {
      await ch.stop();
    } catch (error) {
      log.error({ channel: ch.name, error: errorMessage(error) }, 'Channel failed to stop cleanly.');
    }
    this.end(ch);
    if (how === 'stop') (ch.stats.state = 'stopped'), (ch.stats.stopTime = Date.now());
  }

  setDeadLetters(channel: string | undefined): void {
    this.deadLetters = new DeadLetters(channel ? this.channels.get(channel) : undefined, channel, this.o.log.child({ agent: this.config.name }));
  }

  installProcessor(b: Built<Processor>): void {
    const p = { processor: b.value, ctx: b.ctx, stats: b.stats };
    this.processors.set(b.c.name, p);
    this.adopt(p, b);
  }

  /** reload: flushes a processor's open state (its stop) before it is replaced or removed. */
  async retireProcessor(name: string): Promise<void> {
    const p = this.processors.get(name)!;
    await this.clock.stop(p, AbortSignal.any([AbortSignal.timeout(this.config.shutdownTimeoutMs), this.stopping.signal]));
    this.end(p);
    (p.stats.state = 'stopped'), (p.stats.stopTime = Date.now());
    this.processors.delete(name);
  }

  /** The runner of a lone sink or sink group; a group's members share one channel and take its smallest batchSize. */
  installUnit(unit: SinkUnit, built: ReadonlyMap<string, Built<Sink>>): SinkRunner {
    const members = unit.members.map((n) => built.get(n)!);
    const channel = this.channels.get(unit.channel)!;
    const batchSize = (b: Built<Sink>) => (typeof b.c.config.batchSize === 'number' ? b.c.config.batchSize : 100);
    let runner: SinkRunner;
    if (unit.group) {
      const g = unit.group;
      const prev = this.groupStats.get(g.name);
      // A group restarted with the same members and type keeps its counters, like its members' stats.
      const group = prev && prev.type === g.type && isDeepStrictEqual(prev.members, g.sinks) ? prev : new SinkGroupStats(this.config.name, g.name, g.type, g.sinks);
      if (prev !== group) this.dropGroupStats(g.name);
      registerSinkGroup(this.o.metrics, group);
      this.groupStats.set(g.name, group);
      const policy = createSinkPolicy(g, (i) => group.penalties[i]!++);
      const sinkMembers = members.map((b) => new SinkMember(b.c.name, b.value, b.stats, b.ctx.log.child({ sinkGroup: g.name })));
      runner = new SinkRunner({ members: sinkMembers, policy, group, channel, batchSize: Math.min(...members.map(batchSize)), deadLetters: this.deadLetters });
      this.sinkGroups.set(g.name, runner);
    } else {
      const b = members[0]!;
      runner = new SinkRunner({ sink: b.value, channel, batchSize: batchSize(b), stats: b.stats, deadLetters: this.deadLetters, log: b.ctx.log });
      this.sinks.set(b.c.name, runner);
    }
    for (const b of members) this.adopt(runner, b);
    return runner;
  }

  unitRunner(key: string): SinkRunner | undefined {
    const [kind, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    return kind === 'group' ? this.sinkGroups.get(name) : this.sinks.get(name);
  }

  /** reload: stops a sink runner, after its current batch (`deadline` now) or after draining its channel. */
  async stopUnit(unit: SinkUnit, deadline: number): Promise<void> {
    const runner = this.unitRunner(unit.key)!;
    await runner.stop(deadline);
    this.end(runner);
    if (unit.group) this.sinkGroups.delete(unit.group.name);
    else this.sinks.delete(unit.members[0]!);
  }

  /** reload: a removed sink group's metrics disappear. */
  dropGroupStats(name: string): void {
    const g = this.groupStats.get(name);
    if (g) unregisterSinkGroup(this.o.metrics, g);
    this.groupStats.delete(name);
  }

  /** reload: stops a source; its batch in flight is not acknowledged, so the restarted source reads it again. */
  async stopSource(name: string, timeoutMs: number): Promise<void> {
    const s = this.sources.get(name)!;
    await s.stop(timeoutMs);
    this.end(s);
    this.sources.delete(name);
  }

  /** A source runner; the source itself is built (and rebuilt after a crash) by the runner. */
  installSource(c: ResolvedComponent): SourceRunner {
    const { ctx, stats, lifetime } = this.context(c, 'source');
    const chain = new ProcessorChain((c.config.processors ?? []).map((p: string) => this.processors.get(p)!), ctx.log);
    const runner = new SourceRunner({ ctx, stats, create: async (runCtx) => (await c.def.create(c.config, runCtx)) as Source, chain, selector: createSelector(c.config.channels, c.config.selector), channels: this.channels, deadLetters: this.deadLetters, log: ctx.log });
    this.sources.set(c.name, runner);
    this.adopt(runner, { stats, lifetime });
    return runner;
  }

  async start(): Promise<void> {
    for (const [, ch] of this.channels) await this.startChannel(ch);
    for (const [, p] of this.processors) (p.stats.state = 'running'), (p.stats.startTime = Date.now());
    for (const s of [...this.sinks.values(), ...this.sinkGroups.values()]) await s.start();
    this.resumeTicks();
    for (const [, s] of this.sources) s.start();
    this.started = true;
    this.o.log.info({ agent: this.config.name, sources: this.sources.size, channels: this.channels.size, sinks: this.sinks.size, sinkGroups: this.sinkGroups.size }, 'Agent started.');
  }

  /**
   * Applies a new configuration of this agent while it runs, restarting only what changed and what is wired to
   * it. Reloads run one at a time; a stop waits for the one in progress (which gives up waiting on anything).
   */
  reload(next: ResolvedAgent): Promise<ReloadPlan> {
    const run = this.reloading.then(() => {
      if (!this.started || this.stopping.signal.aborted) throw new Error('The agent is not running; nothing to reload.');
      return applyReload(this, next);
    });
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /** reload: records the configuration now running. */
  setConfig(config: ResolvedAgent): void {
    this.current = config;
  }

  /** True while every component runs (a finished finite source counts as healthy). */
  healthy(): boolean {
    return this.o.metrics.components.filter((s) => s.agent === this.config.name).every((s) => s.state === 'running' || s.state === 'completed');
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.reloading;
    if (!this.started) return;
    this.started = false;
    const log = this.o.log.child({ agent: this.config.name });
    await Promise.all([...this.sources.values()].map((s) => s.stop(this.config.shutdownTimeoutMs)));
    await this.pauseTicks();
    await this.flushProcessors();
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    await Promise.all([...this.sinks.values(), ...this.sinkGroups.values()].map((s) => s.stop(deadline)));
    this.controller.abort();
    for (const [, ch] of this.channels) await this.closeChannel(ch);
    for (const [, p] of this.processors) (p.stats.state = 'stopped'), (p.stats.stopTime = Date.now());
    log.info('Agent stopped.');
  }

  /** reload: stops the processors' clocks and waits for the ticks in flight (their puts included). */
  pauseTicks(): Promise<void> {
    return this.clock.pause();
  }

  resumeTicks(): void {
    this.clock.resume();
  }

  /** Lets stateful processors emit or persist open state after the sources stopped and before sinks drain. */
  private async flushProcessors(): Promise<void> {
    const deadline = AbortSignal.timeout(this.config.shutdownTimeoutMs);
    for (const [, p] of this.processors) await this.clock.stop(p, deadline);
  }
}

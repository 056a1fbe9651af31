/**
 * Applies a reload plan to a running agent. First every new plugin object is built and every new channel started
 * while the old pipeline runs untouched, so a factory that throws cancels the reload with nothing changed. Then,
 * upstream first: the sources that restart stop (their batch in flight is not acknowledged, so it is read again:
 * the one batch of duplicates a reload may cause), processors that go flush their open state, sinks that restart
 * finish their current batch (those of a removed channel drain it), channels are swapped, sinks start, the events
 * a replaced channel still held are moved into its successor, and only then do sources start, so moved events stay
 * ahead of new ones. A durable channel whose directories the new one shares (its lock says so) is closed first and
 * re-opened on them, recovering its queue from disk.
 */
import { AgentError, ErrorCodes, errorMessage } from '../errors.ts';
import type { ResolvedAgent, ResolvedComponent } from '../config/validate.ts';
import type { Channel, Processor, Sink } from '../types.ts';
import type { Agent, Built } from './agent.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';
import { moveEvents } from './reload-move.ts';
import { emitChannels, isEmptyPlan, planReload, sinkUnits, type ReloadPlan } from './reload-plan.ts';

export const RELOAD_FAILED = 'FTA_RELOAD_FAILED';

interface Prepared {
  channels: Map<string, Built<Channel>>;
  /** New channels whose storage the running one locks: built after it closed. */
  deferred: ResolvedComponent[];
  processors: Map<string, Built<Processor>>;
  sinks: Map<string, Built<Sink>>;
}

const byName = <T extends { name: string }>(list: readonly T[]) => new Map(list.map((c) => [c.name, c]));

async function prepare(agent: Agent, plan: ReloadPlan, next: ResolvedAgent): Promise<Prepared> {
  const p: Prepared = { channels: new Map(), deferred: [], processors: new Map(), sinks: new Map() };
  const channels = byName(next.channels);
  const sinks = byName(next.sinks);
  const processors = byName(next.processors);
  const replacing = plan.channels.changed.length + plan.channels.removed.length > 0;
  try {
    for (const n of [...plan.channels.changed, ...plan.channels.added]) {
      let b: Built<Channel>;
      try {
        b = await agent.create<Channel>(channels.get(n)!, 'channel');
      } catch (error) {
        if (replacing && (error as AgentError).code === ErrorCodes.DIRECTORY_LOCKED) {
          p.deferred.push(channels.get(n)!);
          continue;
        }
        throw error;
      }
      p.channels.set(n, b);
      await b.value.start?.();
    }
    for (const n of [...plan.processors.changed, ...plan.processors.added]) p.processors.set(n, await agent.create<Processor>(processors.get(n)!, 'processor'));
    const units = sinkUnits(next);
    for (const k of plan.startUnits) for (const m of units.get(k)!.members) p.sinks.set(m, await agent.create<Sink>(sinks.get(m)!, 'sink'));
  } catch (error) {
    for (const b of p.channels.values()) await b.value.stop?.().catch(() => undefined);
    for (const b of [...p.channels.values(), ...p.processors.values(), ...p.sinks.values()]) agent.discard(b);
    throw new AgentError(RELOAD_FAILED, `The new configuration could not be built (${errorMessage(error)}); the running pipeline is unchanged.`, { cause: error });
  }
  return p;
}

export async function applyReload(agent: Agent, next: ResolvedAgent): Promise<ReloadPlan> {
  const old = agent.config;
  const plan = planReload(old, next);
  if (isEmptyPlan(plan)) {
    agent.setConfig(next);
    return plan;
  }
  const log = agent.o.log.child({ agent: next.name });
  const p = await prepare(agent, plan, next);
  const timeout = next.shutdownTimeoutMs;

  await Promise.all(plan.stopSources.map((n) => agent.stopSource(n, timeout)));
  await agent.pauseTicks();
  for (const n of [...plan.processors.changed, ...plan.processors.removed]) await agent.retireProcessor(n);
  const oldUnits = sinkUnits(old);
  const removed = new Set(plan.channels.removed);
  const drainBy = Date.now() + timeout;
  await Promise.all(plan.stopUnits.map((k) => oldUnits.get(k)!).map((u) => agent.stopUnit(u, removed.has(u.channel) ? drainBy : Date.now())));

  for (const n of plan.channels.removed) {
    await agent.closeChannel(agent.channels.get(n)!);
    agent.channels.delete(n);
    agent.dropStats('channel', n);
  }
  const failures: string[] = [];
  const kept = new Map<string, ResolvedComponent>();
  for (const c of p.deferred) {
    const running = agent.channels.get(c.name);
    if (running) await agent.closeChannel(running, 'reopen');
  }
  for (const c of p.deferred) {
    const previous = old.channels.find((o) => o.name === c.name);
    for (const attempt of previous ? [c, previous] : [c]) {
      try {
        const b = await agent.create<Channel>(attempt, 'channel');
        p.channels.set(c.name, b);
        await b.value.start?.();
        if (attempt !== c) kept.set(c.name, previous!);
        break;
      } catch (error) {
        p.channels.delete(c.name);
        failures.push(`channel "${c.name}"${attempt === c ? '' : ' (with its previous configuration)'}: ${errorMessage(error)}`);
      }
    }
    if (p.channels.has(c.name)) continue;
    const gone = agent.channels.get(c.name);
    if (gone) gone.stats.state = 'failed';
    agent.channels.delete(c.name);
  }
  const moves: [InstrumentedChannel, InstrumentedChannel][] = [];
  for (const [n, b] of p.channels) {
    const from = p.deferred.some((c) => c.name === n) ? undefined : agent.channels.get(n);
    const to = agent.installChannel(b);
    (to.stats.state = 'running'), (to.stats.startTime = Date.now());
    if (from) moves.push([from, to]);
  }
  if (plan.deadLetter) agent.setDeadLetters(next.deadLetterChannel);
  for (const [, b] of p.processors) {
    agent.installProcessor(b);
    (b.stats.state = 'running'), (b.stats.startTime = Date.now());
  }

  const skipped = new Set<string>();
  const newUnits = sinkUnits(next);
  for (const k of plan.startUnits) {
    const u = newUnits.get(k)!;
    if (agent.channels.has(u.channel)) {
      await agent.installUnit(u, p.sinks).start();
      continue;
    }
    for (const m of u.members) (agent.discard(p.sinks.get(m)!), skipped.add(m));
    failures.push(`sink "${u.members.join('", "')}" not started: channel "${u.channel}" is missing`);
  }
  for (const [from, to] of moves) {
    const r = await moveEvents(from.inner, to.inner, agent.stopping.signal);
    if (r.moved) log.info({ channel: to.name, events: r.moved }, 'Moved the events the replaced channel held into the new one.');
    if (r.error) failures.push(`channel "${to.name}": ${r.left} events could not be moved into the new channel (${errorMessage(r.error)})`);
    await agent.closeChannel(from, 'replace');
  }

  const effective = effectiveConfig(next, kept, skipped, new Set(agent.channels.keys()));
  agent.setConfig(effective);
  agent.resumeTicks();
  const sources = byName(next.sources);
  for (const n of plan.startSources) {
    const c = sources.get(n)!;
    if (!effective.sources.includes(c)) {
      failures.push(`source "${n}" not started: a channel it writes to is missing`);
      continue;
    }
    agent.installSource(c).start();
  }
  for (const [kind, d] of [['processor', plan.processors], ['sink', plan.sinks], ['source', plan.sources]] as const) for (const n of d.removed) agent.dropStats(kind, n);
  for (const n of plan.sinkGroups.removed) agent.dropGroupStats(n);
  if (failures.length) throw new AgentError(RELOAD_FAILED, `The reload was applied only in part: ${failures.join('; ')}.`);
  return plan;
}

/** What really runs: channels that fell back keep their previous config; what could not start is left out, so a later reload retries it. */
function effectiveConfig(next: ResolvedAgent, kept: Map<string, ResolvedComponent>, skipped: Set<string>, channels: Set<string>): ResolvedAgent {
  const processors = byName(next.processors);
  const writes = (s: ResolvedComponent) => [...(s.config.channels as string[]), ...((s.config.processors ?? []) as string[]).flatMap((p) => emitChannels(processors.get(p)!))];
  return {
    ...next,
    channels: next.channels.filter((c) => channels.has(c.name)).map((c) => kept.get(c.name) ?? c),
    sinks: next.sinks.filter((s) => !skipped.has(s.name)),
    sinkGroups: next.sinkGroups.filter((g) => !g.sinks.some((m) => skipped.has(m))),
    sources: next.sources.filter((s) => writes(s).every((c) => channels.has(c))),
  };
}

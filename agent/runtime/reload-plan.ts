/**
 * What a configuration reload changes: each component is added, removed, changed (type or resolved config not
 * deep-equal) or unchanged, and from that the runners to restart. A runner restarts when its own config changed or
 * something it is wired to is recreated: a source when one of its processors changed or a channel it writes to
 * (directly, or through a processor's emitTo) is recreated; a lone sink or a sink group when a member, the group or
 * its channel changed. Every source and sink also sends to the dead-letter channel, so changing that restarts them
 * all. Everything else keeps running untouched.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResolvedAgent, ResolvedComponent, ResolvedSinkGroup } from '../config/validate.ts';

export interface Diff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/** What one SinkRunner drives: a lone sink (`sink:<name>`) or a sink group (`group:<name>`). */
export interface SinkUnit {
  key: string;
  group: ResolvedSinkGroup | undefined;
  members: string[];
  channel: string;
}

export interface ReloadPlan {
  channels: Diff;
  processors: Diff;
  sinks: Diff;
  sources: Diff;
  sinkGroups: Diff;
  /** The dead-letter channel is another one, or recreated: every source and sink restarts. */
  deadLetter: boolean;
  /** Sink units to stop (removed or restarted) and to start (added or restarted), by key. */
  stopUnits: string[];
  startUnits: string[];
  /** Sources to stop (removed or restarted) and to start (added or restarted). */
  stopSources: string[];
  startSources: string[];
  /** Agent settings applied live. */
  settings: ('shutdownTimeout' | 'tickInterval')[];
}

const sameComponent = (a: ResolvedComponent, b: ResolvedComponent) => a.type === b.type && isDeepStrictEqual(a.config, b.config);

function diff<T extends { name: string }>(old: readonly T[], next: readonly T[], same: (a: T, b: T) => boolean): Diff {
  const before = new Map(old.map((c) => [c.name, c]));
  const after = new Set(next.map((c) => c.name));
  const d: Diff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const c of next) {
    const o = before.get(c.name);
    if (!o) d.added.push(c.name);
    else (same(o, c) ? d.unchanged : d.changed).push(c.name);
  }
  for (const c of old) if (!after.has(c.name)) d.removed.push(c.name);
  return d;
}

export function sinkUnits(a: ResolvedAgent): Map<string, SinkUnit> {
  const channelOf = new Map(a.sinks.map((s) => [s.name, s.config.channel as string]));
  const units = new Map<string, SinkUnit>();
  const grouped = new Set<string>();
  for (const g of a.sinkGroups) {
    for (const m of g.sinks) grouped.add(m);
    units.set(`group:${g.name}`, { key: `group:${g.name}`, group: g, members: [...g.sinks], channel: channelOf.get(g.sinks[0]!)! });
  }
  for (const s of a.sinks) if (!grouped.has(s.name)) units.set(`sink:${s.name}`, { key: `sink:${s.name}`, group: undefined, members: [s.name], channel: channelOf.get(s.name)! });
  return units;
}

/** Channels a processor emits derived events to (the `emitTo` convention the wiring check knows). */
export function emitChannels(p: ResolvedComponent): string[] {
  const to = p.config.emitTo;
  return Array.isArray(to) ? to.filter((c): c is string => typeof c === 'string') : [];
}

export function planReload(old: ResolvedAgent, next: ResolvedAgent): ReloadPlan {
  const channels = diff(old.channels, next.channels, sameComponent);
  const processors = diff(old.processors, next.processors, sameComponent);
  const sinks = diff(old.sinks, next.sinks, sameComponent);
  const sources = diff(old.sources, next.sources, sameComponent);
  const sinkGroups = diff(old.sinkGroups, next.sinkGroups, isDeepStrictEqual);
  const recreated = new Set(channels.changed);
  const deadLetter = old.deadLetterChannel !== next.deadLetterChannel || (next.deadLetterChannel !== undefined && recreated.has(next.deadLetterChannel));

  const oldUnits = sinkUnits(old);
  const newUnits = sinkUnits(next);
  const sinkSame = new Set(sinks.unchanged);
  const keepUnit = (o: SinkUnit, n: SinkUnit) =>
    !deadLetter && isDeepStrictEqual(o.group, n.group) && isDeepStrictEqual(o.members, n.members) && o.channel === n.channel && !recreated.has(n.channel) && n.members.every((m) => sinkSame.has(m));
  const keptUnits = new Set([...newUnits].filter(([k, n]) => oldUnits.has(k) && keepUnit(oldUnits.get(k)!, n)).map(([k]) => k));

  const procSame = new Set(processors.unchanged);
  const procByName = new Map(next.processors.map((p) => [p.name, p]));
  const sourceSame = new Set(sources.unchanged);
  const keepSource = (s: ResolvedComponent) => {
    if (deadLetter || !sourceSame.has(s.name)) return false;
    const chain: string[] = s.config.processors ?? [];
    if (!chain.every((p) => procSame.has(p))) return false;
    const writes = [...(s.config.channels as string[]), ...chain.flatMap((p) => emitChannels(procByName.get(p)!))];
    return !writes.some((c) => recreated.has(c));
  };
  const keptSources = new Set(next.sources.filter(keepSource).map((s) => s.name));

  const settings: ReloadPlan['settings'] = [];
  if (old.shutdownTimeoutMs !== next.shutdownTimeoutMs) settings.push('shutdownTimeout');
  if (old.tickIntervalMs !== next.tickIntervalMs) settings.push('tickInterval');
  return {
    channels,
    processors,
    sinks,
    sources,
    sinkGroups,
    deadLetter,
    stopUnits: [...oldUnits.keys()].filter((k) => !keptUnits.has(k)),
    startUnits: [...newUnits.keys()].filter((k) => !keptUnits.has(k)),
    stopSources: old.sources.map((s) => s.name).filter((n) => !keptSources.has(n)),
    startSources: next.sources.map((s) => s.name).filter((n) => !keptSources.has(n)),
    settings,
  };
}

/** True when the reload touches nothing. */
export function isEmptyPlan(p: ReloadPlan): boolean {
  const untouched = (d: Diff) => d.added.length + d.removed.length + d.changed.length === 0;
  return [p.channels, p.processors, p.sinks, p.sources, p.sinkGroups].every(untouched) && !p.deadLetter && p.stopUnits.length + p.startUnits.length + p.stopSources.length + p.startSources.length + p.settings.length === 0;
}

/** One line per kind for the log: what was added, removed, changed and which runners restart. */
export function describePlan(p: ReloadPlan): Record<string, unknown> {
  const kinds = { channels: p.channels, processors: p.processors, sinks: p.sinks, sinkGroups: p.sinkGroups, sources: p.sources };
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(kinds)) {
    const parts = Object.fromEntries((['added', 'removed', 'changed'] as const).filter((w) => d[w].length).map((w) => [w, d[w]]));
    if (Object.keys(parts).length) out[k] = parts;
  }
  const sinks = p.stopUnits.filter((k) => p.startUnits.includes(k));
  const sources = p.stopSources.filter((k) => p.startSources.includes(k));
  if (sinks.length) out.restartedSinks = sinks;
  if (sources.length) out.restartedSources = sources;
  if (p.deadLetter) out.deadLetter = 'changed: every source and sink restarts';
  if (p.settings.length) out.settings = p.settings;
  return out;
}

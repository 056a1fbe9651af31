/**
 * Checks between components: every reference names a component that exists, every channel is drained,
 * batchSize ≤ transactionCapacity ≤ capacity along each edge, and sink groups are made of defined sinks that share
 * one channel and belong to one group each.
 */
import { didYouMean } from './problems.ts';
import type { RawProblem } from './ajv-problems.ts';
import { toMillis } from './duration.ts';
import type { ResolvedAgent, ResolvedSinkGroup } from './validate.ts';

type Body = Record<string, any>;

export function checkWiring(agent: Body, agentName: string, resolved: ResolvedAgent): RawProblem[] {
  const out: RawProblem[] = [];
  const channels = Object.keys(agent.channels ?? {});
  const processors = Object.keys(agent.processors ?? {});
  const at = (...p: (string | number)[]) => ['agents', agentName, ...p];
  const ref = (path: (string | number)[], name: unknown, pool: string[], what: string) => {
    if (typeof name !== 'string' || pool.includes(name)) return;
    const guess = didYouMean(name, pool);
    out.push({ path, message: `${what} "${name}" is not defined${guess ? `; did you mean "${guess}"?` : '.'} Defined ${what}s: ${pool.join(', ') || 'none'}.` });
  };
  const channelConf = (name: string) => resolved.channels.find((c) => c.name === name)?.config;

  if (!agent.sources && !agent.sinks) out.push({ path: at(), message: 'the agent has no sources and no sinks: define at least one of each.' });
  const drained = new Set<string>();
  for (const [name, sink] of Object.entries<Body>(agent.sinks ?? {})) {
    if (!sink || typeof sink !== 'object') continue;
    ref(at('sinks', name, 'channel'), sink.channel, channels, 'channel');
    drained.add(sink.channel);
    const ch = channelConf(sink.channel);
    if (ch && typeof sink.batchSize === 'number' && typeof ch.transactionCapacity === 'number' && sink.batchSize > ch.transactionCapacity) {
      out.push({ path: at('sinks', name, 'batchSize'), message: `batchSize ${sink.batchSize} exceeds the transactionCapacity ${ch.transactionCapacity} of channel "${sink.channel}": lower it or raise the channel's transactionCapacity.` });
    }
  }
  for (const [name, src] of Object.entries<Body>(agent.sources ?? {})) {
    if (!src || typeof src !== 'object') continue;
    (Array.isArray(src.channels) ? src.channels : []).forEach((c: unknown, i: number) => {
      ref(at('sources', name, 'channels', i), c, channels, 'channel');
      const ch = typeof c === 'string' ? channelConf(c) : undefined;
      if (ch && typeof src.batchSize === 'number' && typeof ch.transactionCapacity === 'number' && src.batchSize > ch.transactionCapacity) {
        out.push({ path: at('sources', name, 'batchSize'), message: `batchSize ${src.batchSize} exceeds the transactionCapacity ${ch.transactionCapacity} of channel "${c}": lower it or raise the channel's transactionCapacity.` });
      }
    });
    (Array.isArray(src.processors) ? src.processors : []).forEach((p: unknown, i: number) => ref(at('sources', name, 'processors', i), p, processors, 'processor'));
    const sel = src.selector;
    if (sel && typeof sel === 'object') {
      const listed = new Set<string>(Array.isArray(src.channels) ? src.channels : []);
      const check = (path: (string | number)[], list: unknown) => {
        if (!Array.isArray(list)) return;
        list.forEach((c, i) => {
          if (typeof c === 'string' && !listed.has(c)) out.push({ path: [...path, i], message: `selector channel "${c}" is not one of this source's channels (${[...listed].join(', ')}): add it to channels.` });
        });
      };
      if (sel.type === 'multiplexing' && typeof sel.header !== 'string') out.push({ path: at('sources', name, 'selector'), message: 'a multiplexing selector needs "header": the header whose value picks the channels.' });
      for (const [v, list] of Object.entries(sel.mapping ?? {})) check(at('sources', name, 'selector', 'mapping', v), list);
      check(at('sources', name, 'selector', 'default'), sel.default);
      if (Array.isArray(sel.optional)) check(at('sources', name, 'selector', 'optional'), sel.optional);
      else for (const [v, list] of Object.entries(sel.optional ?? {})) check(at('sources', name, 'selector', 'optional', v), list);
    }
  }
  for (const [name, proc] of Object.entries<Body>(agent.processors ?? {})) {
    if (proc && Array.isArray(proc.emitTo)) proc.emitTo.forEach((c: unknown, i: number) => ref(at('processors', name, 'emitTo', i), c, channels, 'channel'));
  }
  out.push(...checkSinkGroups(agent, at, ref));
  if (agent.deadLetter?.channel) ref(at('deadLetter', 'channel'), agent.deadLetter.channel, channels, 'channel');
  for (const [name, ch] of Object.entries<Body>(agent.channels ?? {})) {
    if (!ch || typeof ch !== 'object') continue;
    if (!drained.has(name)) out.push({ path: at('channels', name), message: `channel "${name}" is not drained by any sink, so it would fill up and stop its sources: add a sink with channel: ${name}.` });
    if (typeof ch.transactionCapacity === 'number' && typeof ch.capacity === 'number' && ch.transactionCapacity > ch.capacity) {
      out.push({ path: at('channels', name, 'transactionCapacity'), message: `transactionCapacity ${ch.transactionCapacity} exceeds capacity ${ch.capacity}: it must be at most the capacity.` });
    }
  }
  return out;
}

type Ref = (path: (string | number)[], name: unknown, pool: string[], what: string) => void;

function checkSinkGroups(agent: Body, at: (...p: (string | number)[]) => (string | number)[], ref: Ref): RawProblem[] {
  const out: RawProblem[] = [];
  const sinks: Record<string, Body> = agent.sinks && typeof agent.sinks === 'object' ? agent.sinks : {};
  const memberOf = new Map<string, string>();
  for (const [group, body] of Object.entries<Body>(agent.sinkGroups ?? {})) {
    if (!body || typeof body !== 'object' || !Array.isArray(body.sinks)) continue;
    const members = body.sinks.filter((k: unknown): k is string => typeof k === 'string');
    let first: string | undefined;
    body.sinks.forEach((k: unknown, i: number) => {
      if (typeof k !== 'string') return;
      ref(at('sinkGroups', group, 'sinks', i), k, Object.keys(sinks), 'sink');
      const other = memberOf.get(k);
      if (other !== undefined) out.push({ path: at('sinkGroups', group, 'sinks', i), message: `sink "${k}" is already in group "${other}": a sink may belong to one group only; remove it from one of them.` });
      else memberOf.set(k, group);
      const channel = sinks[k]?.channel;
      if (typeof channel !== 'string') return;
      if (first === undefined) first = k;
      else if (channel !== sinks[first]!.channel) {
        out.push({ path: at('sinks', k, 'channel'), message: `sink "${k}" drains channel "${channel}" but its group "${group}" drains "${sinks[first]!.channel}" (the channel of "${first}"): the sinks of a group share one channel; set channel: ${sinks[first]!.channel}.` });
      }
    });
    const p = body.processor;
    if (!p || typeof p !== 'object') continue;
    const wrongType = (key: string, type: string, instead = '') => out.push({ path: at('sinkGroups', group, 'processor', key), message: `${key} applies to ${type} groups only: ${instead || 'remove it'}, or use type: ${type}.` });
    if (p.type === 'failover') for (const key of ['selector', 'backoff']) if (p[key] !== undefined) wrongType(key, 'load_balance');
    if (p.type === 'failover' && p.maxTimeOut !== undefined) wrongType('maxTimeOut', 'load_balance', 'a failover group takes maxPenalty');
    if (p.type === 'load_balance' && p.priority !== undefined) wrongType('priority', 'failover');
    if (p.type === 'load_balance' && p.maxPenalty !== undefined) wrongType('maxPenalty', 'failover', 'a load_balance group takes maxTimeOut');
    const seen = new Map<number, string>();
    for (const [k, v] of Object.entries(p.priority && typeof p.priority === 'object' ? p.priority : {})) {
      const path = at('sinkGroups', group, 'processor', 'priority', k);
      if (!members.includes(k)) {
        const guess = didYouMean(k, members);
        out.push({ path, message: `priority names sink "${k}", which is not in group "${group}"${guess ? `; did you mean "${guess}"?` : '.'} Members: ${members.join(', ')}.` });
      }
      if (typeof v !== 'number') continue;
      const same = seen.get(v);
      if (same !== undefined) out.push({ path, message: `priority ${v} of "${k}" equals that of "${same}": failover priorities must be unique, so the order of the members is clear.` });
      else seen.set(v, k);
    }
  }
  return out;
}

/** The groups as the runtime builds them, type-specific defaults filled (only read once the config is valid). */
export function resolveSinkGroups(groups: unknown): ResolvedSinkGroup[] {
  if (!groups || typeof groups !== 'object') return [];
  return Object.entries(groups as Record<string, Body>).map(([name, g]) => {
    const p: Body = g?.processor ?? {};
    let maxPenaltyMs = 30_000;
    try {
      maxPenaltyMs = toMillis((p.type === 'load_balance' ? p.maxTimeOut : p.maxPenalty) ?? 30, 's');
    } catch {
      // reported by the schema
    }
    return {
      name,
      sinks: Array.isArray(g?.sinks) ? [...g.sinks] : [],
      type: p.type === 'load_balance' ? 'load_balance' : 'failover',
      priority: { ...(p.priority ?? {}) },
      selector: p.selector === 'random' ? 'random' : 'round_robin',
      backoff: p.backoff === true,
      maxPenaltyMs,
    };
  });
}

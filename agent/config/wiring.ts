/**
 * Checks between components: every reference names a component that exists, every channel is drained, and
 * batchSize ≤ transactionCapacity ≤ capacity along each edge.
 */
import { didYouMean } from './problems.ts';
import type { RawProblem } from './ajv-problems.ts';
import type { ResolvedAgent } from './validate.ts';

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

/**
 * Flume sink groups (`<agent>.sinkgroups = g1`, `…g1.sinks = k1 k2`, `…g1.processor.type = failover|load_balance`)
 * become `sinkGroups: { g1: { sinks: [k1, k2], processor: { type, … } } }`. Flume's millisecond keys
 * (`maxpenalty`, `selector.maxTimeOut`) become durations. A `default` group holds one sink and behaves as that
 * sink alone, so it needs no group here.
 */
import { didYouMean } from '../problems.ts';
import { convert, pos, type Ctx, type Prop } from './rules.ts';
import { child, leaf, type YMap } from './yaml-out.ts';

const PROCESSORS: Record<string, 'default' | 'failover' | 'load_balance'> = {
  default: 'default',
  'org.apache.flume.sink.defaultsinkprocessor': 'default',
  failover: 'failover',
  'org.apache.flume.sink.failoversinkprocessor': 'failover',
  load_balance: 'load_balance',
  'org.apache.flume.sink.loadbalancingsinkprocessor': 'load_balance',
};
const KEYS: Record<string, string[]> = {
  default: ['sinks', 'processor.type'],
  failover: ['sinks', 'processor.type', 'processor.priority.<sink>', 'processor.maxpenalty'],
  load_balance: ['sinks', 'processor.type', 'processor.backoff', 'processor.selector', 'processor.selector.maxTimeOut'],
};

/** Flume milliseconds as a duration string. */
function duration(p: Prop, ctx: Ctx): string | undefined {
  if (!/^\s*\d+\s*$/.test(p.value)) return void ctx.error(p, `${p.name} must be a whole number of milliseconds; got "${p.value}".`);
  const ms = Number(p.value);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function translateSinkGroup(agentName: string, g: string, props: Prop[], listProp: Prop, groups: YMap, agentSinks: string[], ctx: Ctx): void {
  const full = `${agentName}.sinkgroups.${g}`;
  const sinksP = props.find((p) => p.name === 'sinks');
  if (!sinksP) return ctx.error(props[0] ?? listProp, `sink group "${g}" has no sinks: add ${full}.sinks = k1 k2.`, `${full}.sinks`);
  const sinks = convert(sinksP, 'words') as string[];
  for (const s of sinks) if (!agentSinks.includes(s)) ctx.error(sinksP, `sink "${s}" of group "${g}" is not listed in ${agentName}.sinks (${agentSinks.join(' ') || 'empty'}).`);
  const typeP = props.find((p) => p.name === 'processor.type');
  const type = PROCESSORS[(typeP?.value.trim() ?? 'default').toLowerCase()];
  if (!type) return ctx.error(typeP!, `sink processor type "${typeP!.value}" is not supported: use failover, load_balance or default.`);
  if (type === 'default' && sinks.length > 1) return ctx.error(typeP ?? sinksP, `a default sink processor drives one sink, and group "${g}" has ${sinks.length}: use processor.type = failover or load_balance.`);

  const group = child(groups, g, pos(sinksP));
  group.entries.set('sinks', leaf(sinks, pos(sinksP)));
  const proc = child(group, 'processor', pos(typeP ?? sinksP));
  proc.entries.set('type', leaf(type, pos(typeP ?? sinksP)));
  for (const p of props) {
    if (p === sinksP || p === typeP) continue;
    if (type === 'failover' && p.name.startsWith('processor.priority.')) {
      const sink = p.name.slice('processor.priority.'.length);
      if (!sinks.includes(sink)) ctx.error(p, `${p.name}: "${sink}" is not a sink of group "${g}" (${sinks.join(' ')}).`);
      else child(proc, 'priority', pos(p)).entries.set(sink, leaf(convert(p, 'int'), pos(p)));
    } else if (type === 'failover' && p.name === 'processor.maxpenalty') {
      const d = duration(p, ctx);
      if (d) proc.entries.set('maxPenalty', leaf(d, pos(p), 'Flume counts milliseconds'));
    } else if (type === 'load_balance' && p.name === 'processor.backoff') proc.entries.set('backoff', leaf(convert(p, 'bool'), pos(p)));
    else if (type === 'load_balance' && p.name === 'processor.selector') {
      const v = p.value.trim().toLowerCase();
      if (v === 'round_robin' || v === 'random') proc.entries.set('selector', leaf(v, pos(p)));
      else ctx.error(p, `processor.selector "${p.value}" is not supported: use round_robin or random.`);
    } else if (type === 'load_balance' && p.name === 'processor.selector.maxTimeOut') {
      const d = duration(p, ctx);
      if (d) proc.entries.set('maxTimeOut', leaf(d, pos(p), 'Flume counts milliseconds'));
    } else {
      const guess = didYouMean(p.name, KEYS[type]!);
      ctx.error(p, `unknown key "${p.name}" for a ${type} sink group${guess ? `; did you mean "${guess}"?` : '.'} Supported keys: ${KEYS[type]!.join(', ')}.`);
    }
  }
  if (type === 'default') groups.entries.delete(g);
}

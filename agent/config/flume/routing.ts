/**
 * A Flume source's routing: its channel selector becomes `selector:`, and its interceptors become processors of
 * the agent, listed in the source's `processors` in the same order (interceptors run before the selector in
 * both). Interceptor names are per source in Flume and per agent here: a name two sources use gets the source
 * name in front.
 */
import { didYouMean } from '../problems.ts';
import type { Summary } from './checks.ts';
import { INTERCEPTORS } from './components.ts';
import { applyRules, convert, findSpec, pos, typeNames, type Ctx, type Prop } from './rules.ts';
import { child, leaf, type YMap } from './yaml-out.ts';

const SELECTORS: Record<string, 'replicating' | 'multiplexing'> = {
  replicating: 'replicating',
  'org.apache.flume.channel.replicatingchannelselector': 'replicating',
  multiplexing: 'multiplexing',
  'org.apache.flume.channel.multiplexingchannelselector': 'multiplexing',
};

export function translateSelector(props: Prop[], body: YMap, ctx: Ctx): void {
  const typeP = props.find((p) => p.name === 'selector.type');
  const kind = SELECTORS[(typeP?.value.trim() ?? 'replicating').toLowerCase()];
  if (!kind) {
    const hint = /load_balancing/i.test(typeP!.value) ? ' To spread events over channels, give each channel its own sink, or spread one channel over sinks with a load_balance sink group.' : '';
    return ctx.error(typeP!, `selector.type "${typeP!.value}" is not supported: use replicating or multiplexing.${hint}`);
  }
  const sel = child(body, 'selector', pos(typeP ?? props[0]!));
  sel.entries.set('type', leaf(kind, pos(typeP ?? props[0]!)));
  const supported = kind === 'replicating' ? ['selector.type', 'selector.optional'] : ['selector.type', 'selector.header', 'selector.default', 'selector.mapping.<value>', 'selector.optional.<value>'];
  for (const p of props) {
    if (p === typeP) continue;
    const words = () => leaf(convert(p, 'words'), pos(p));
    if (kind === 'replicating' && p.name === 'selector.optional') sel.entries.set('optional', words());
    else if (kind === 'multiplexing' && p.name === 'selector.header') sel.entries.set('header', leaf(p.yaml, pos(p)));
    else if (kind === 'multiplexing' && p.name === 'selector.default') sel.entries.set('default', words());
    else if (kind === 'multiplexing' && p.name.startsWith('selector.mapping.')) child(sel, 'mapping', pos(p)).entries.set(p.name.slice(17), words());
    else if (kind === 'multiplexing' && p.name.startsWith('selector.optional.')) child(sel, 'optional', pos(p)).entries.set(p.name.slice(18), words());
    else {
      const guess = didYouMean(p.name, supported);
      ctx.error(p, `unknown key "${p.name}" for a ${kind} selector${guess ? `; did you mean "${guess}"?` : '.'} Supported keys: ${supported.join(', ')}.`);
    }
  }
  if (kind === 'multiplexing' && !sel.entries.has('header')) sel.entries.set('header', leaf('flume.selector.header', pos(typeP!), "Flume's default header"));
}

export function translateInterceptors(source: Summary, props: Prop[], body: YMap, agent: YMap, ctx: Ctx): void {
  const list = props.find((p) => p.name === 'interceptors');
  const names = list ? (convert(list, 'words') as string[]) : [];
  const byName = new Map<string, Prop[]>();
  for (const p of props) {
    if (p === list) continue;
    const [, i, ...key] = p.name.split('.');
    if (!names.includes(i!)) {
      ctx.error(p, `interceptor "${i}" has properties but is not listed in ${list ? `interceptors (line ${list.line})` : `an interceptors = ... list of source "${source.name}"`}: add it there, or remove its keys.`);
      continue;
    }
    if (!key.length) {
      ctx.error(p, `${p.key} names an interceptor but no property: write ${p.key}.type = timestamp and the like.`);
      continue;
    }
    byName.set(i!, [...(byName.get(i!) ?? []), { ...p, name: key.join('.') }]);
  }
  if (!list) return;
  const processors = child(agent, 'processors', pos(list));
  const procNames: string[] = [];
  for (const i of names) {
    const own = byName.get(i) ?? [];
    const typeP = own.find((p) => p.name === 'type');
    if (!typeP) {
      ctx.error(list, `interceptor "${i}" of source "${source.name}" has no type: add interceptors.${i}.type = timestamp (or host, static).`);
      continue;
    }
    const spec = findSpec(INTERCEPTORS, typeP.value.trim());
    if (!spec) {
      const guess = didYouMean(typeP.value.trim(), typeNames(INTERCEPTORS));
      ctx.error(typeP, `interceptor type "${typeP.value}" is not supported${guess ? `; did you mean "${guess}"?` : '.'} Supported interceptor types: ${typeNames(INTERCEPTORS).join(', ')}.`);
      continue;
    }
    const procName = processors.entries.has(i) ? `${source.name}-${i}` : i;
    const proc = child(processors, procName, pos(typeP));
    proc.entries.set('type', leaf(spec.target, pos(typeP)));
    applyRules(spec, `${spec.names[0]} interceptor`, own.filter((p) => p !== typeP), proc, ctx, typeP);
    const header = proc.entries.get(spec.target === 'timestamp' ? 'headerName' : spec.target === 'host' ? 'hostHeader' : 'key');
    source.headers.add(header?.kind === 'leaf' && typeof header.value === 'string' ? header.value : spec.target === 'static' ? 'key' : spec.target);
    procNames.push(procName);
  }
  if (procNames.length) body.entries.set('processors', leaf(procNames, pos(list)));
  if (!processors.entries.size) agent.entries.delete('processors');
}

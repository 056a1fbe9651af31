/**
 * Translates the properties of Flume agents into this project's configuration tree: `<agent>.sources/channels/
 * sinks/sinkgroups` lists, each listed component's keys (components.ts), `channels`/`channel` wiring, selectors,
 * interceptors (which become processors) and sink groups. Problems and warnings carry the .conf line.
 */
import { didYouMean, type Problem } from '../problems.ts';
import { loadHadoopConf, type HadoopConf } from './hadoop-conf.ts';
import type { Property } from './properties.ts';
import { CHANNELS, SINKS, SOURCES } from './components.ts';
import { adjustBatches, checkKafkaSinkHeaders, type Summary } from './checks.ts';
import { translateSinkGroup } from './sink-groups.ts';
import { translateInterceptors, translateSelector } from './routing.ts';
import { applyRules, convert, findSpec, pos, typeNames, type Ctx, type Prop, type TypeSpec } from './rules.ts';
import { child, leaf, ymap, type Pos, type YMap } from './yaml-out.ts';

export interface Translation {
  root: YMap;
  agents: string[];
  problems: Problem[];
  warnings: Problem[];
}

const SECTIONS = ['sources', 'channels', 'sinks', 'sinkgroups'] as const;
type Section = (typeof SECTIONS)[number];
const KIND: Record<Exclude<Section, 'sinkgroups'>, { label: string; specs: TypeSpec[] }> = {
  sources: { label: 'source', specs: SOURCES },
  channels: { label: 'channel', specs: CHANNELS },
  sinks: { label: 'sink', specs: SINKS },
};

interface AgentProps {
  lists: Partial<Record<Section, Prop>>;
  components: Record<Section, Map<string, Prop[]>>;
  first: Prop;
}

export function translateFlume(properties: Property[], file: string, env: NodeJS.ProcessEnv, name?: string): Translation {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const at = (list: Problem[]) => (p: Prop | Pos, message: string, key?: string) =>
    list.push({ path: key ? [key] : 'key' in p ? [p.key] : [], file, line: p.line, col: p.col, message });
  let hadoop: HadoopConf | undefined | null = null;
  const ctx: Ctx = { file, env, error: at(problems), warn: at(warnings), hadoop: () => (hadoop === null ? (hadoop = loadHadoopConf(env)) : hadoop) };

  const agents = new Map<string, AgentProps>();
  const unique = new Map<string, Prop>();
  for (const raw of properties) {
    const p = substitute(raw, env, ctx);
    if (!p) continue;
    const previous = unique.get(p.key);
    if (previous) ctx.warn(p, `${p.key} is set again (first at line ${previous.line}); the later value wins, as in Flume.`, p.key);
    unique.delete(p.key);
    unique.set(p.key, p);
  }
  for (const p of unique.values()) {
    const dot = p.key.indexOf('.');
    if (dot <= 0) {
      ctx.error(p, `"${p.key}" is not a Flume agent key: keys look like <agent>.sources = ..., <agent>.sources.<name>.type = ...`, p.key);
      continue;
    }
    const agentName = p.key.slice(0, dot);
    let a = agents.get(agentName);
    if (!a) agents.set(agentName, (a = { lists: {}, components: { sources: new Map(), channels: new Map(), sinks: new Map(), sinkgroups: new Map() }, first: p }));
    const rest = p.key.slice(dot + 1).split('.');
    const section = rest[0] as Section;
    if (!SECTIONS.includes(section)) {
      const guess = didYouMean(rest[0]!, [...SECTIONS]);
      const what = rest[0] === 'configfilters' ? 'config filters are not supported: use ${env:NAME} in values' : `unknown key${guess ? `; did you mean "${agentName}.${guess}"?` : '.'} An agent has ${SECTIONS.join(', ')}`;
      ctx.error(p, `${p.key}: ${what}.`, p.key);
    } else if (rest.length === 1) a.lists[section] = p;
    else if (rest.length === 2) ctx.error(p, `${p.key} names a component but no property: write ${p.key}.type = ... and the like.`, p.key);
    else {
      const comp = rest[1]!;
      const list = a.components[section].get(comp) ?? [];
      list.push({ ...p, name: rest.slice(2).join('.') });
      a.components[section].set(comp, list);
    }
  }

  const root = ymap(pos(properties[0] ?? { line: 1, col: 1, valueLine: 1, valueCol: 1 }));
  const chosen = name !== undefined && agents.has(name) ? [name] : [...agents.keys()];
  if (!agents.size && !problems.length) problems.push({ path: [], file, message: 'no Flume agent found: a Flume file lists its components with <agent>.sources = ..., <agent>.channels = ..., <agent>.sinks = ...' });
  for (const agentName of chosen) {
    const a = agents.get(agentName)!;
    const out = child(child(root, 'agents', pos(a.first)), agentName, pos(a.first));
    translateAgent(agentName, a, out, ctx);
  }
  return { root, agents: chosen, problems, warnings };
}

function translateAgent(agentName: string, a: AgentProps, out: YMap, ctx: Ctx): void {
  const listed: Record<Section, string[]> = { sources: [], channels: [], sinks: [], sinkgroups: [] };
  for (const section of SECTIONS) {
    const list = a.lists[section];
    if (list) listed[section] = convert(list, 'words') as string[];
    for (const [comp, props] of a.components[section]) {
      if (!listed[section].includes(comp)) {
        ctx.error(props[0]!, `${section.replace(/s$/, '')} "${comp}" has properties but is not listed in ${agentName}.${section}${list ? ` (line ${list.line}: ${listed[section].join(' ') || 'empty'})` : ''}: add it there, or remove its keys.`, `${agentName}.${section}.${comp}`);
      }
    }
  }
  if (!a.lists.channels) ctx.error(a.first, `agent "${agentName}" has no ${agentName}.channels list: name its channels, e.g. ${agentName}.channels = c1.`, `${agentName}.channels`);
  const summaries: Summary[] = [];
  for (const section of ['sources', 'channels', 'sinks'] as const) {
    if (!listed[section].length) continue;
    const sectionMap = child(out, section, pos(a.lists[section]!));
    for (const comp of listed[section]) {
      const props = a.components[section].get(comp) ?? [];
      const where = props[0] ?? a.lists[section]!;
      const full = `${agentName}.${section}.${comp}`;
      const typeProp = props.find((p) => p.name === 'type');
      if (!typeProp) {
        ctx.error(where, `${full} has no type: add ${full}.type = ${KIND[section].specs[0]!.names[0]} (or another of ${typeNames(KIND[section].specs).join(', ')}).`, `${full}.type`);
        continue;
      }
      const spec = findSpec(KIND[section].specs, typeProp.value.trim());
      if (!spec) {
        const guess = didYouMean(typeProp.value.trim(), typeNames(KIND[section].specs));
        ctx.error(typeProp, `${KIND[section].label} type "${typeProp.value}" is not supported${guess ? `; did you mean "${guess}"?` : '.'} Supported ${KIND[section].label} types: ${typeNames(KIND[section].specs).join(', ')}.`, `${full}.type`);
        continue;
      }
      const body = child(sectionMap, comp, pos(typeProp));
      body.entries.set('type', leaf(spec.target, pos(typeProp)));
      const rest = props.filter((p) => p !== typeProp);
      const summary: Summary = { section, name: comp, spec: spec.target, body, typeProp, channels: [], headers: new Set() };
      const own = section === 'sources' ? wireSource(rest, body, out, summary, ctx) : section === 'sinks' ? wireSink(rest, body, summary) : rest;
      summary.state = applyRules(spec, `${spec.names[0]} ${KIND[section].label}`, own, body, ctx, typeProp);
      summaries.push(summary);
    }
  }
  if (listed.sinkgroups.length) {
    const groups = child(out, 'sinkGroups', pos(a.lists.sinkgroups!));
    for (const g of listed.sinkgroups) translateSinkGroup(agentName, g, a.components.sinkgroups.get(g) ?? [], a.lists.sinkgroups!, groups, listed.sinks, ctx);
    if (!groups.entries.size) out.entries.delete('sinkGroups');
  }
  adjustBatches(summaries, ctx);
  checkKafkaSinkHeaders(summaries, ctx);
}

/** Takes a source's channels, selector and interceptors out of its properties; returns the rest. */
function wireSource(props: Prop[], body: YMap, agent: YMap, summary: Summary, ctx: Ctx): Prop[] {
  const channels = props.find((p) => p.name === 'channels');
  if (channels) {
    summary.channels = convert(channels, 'words') as string[];
    body.entries.set('channels', leaf(summary.channels, pos(channels)));
  }
  const selector = props.filter((p) => p.name === 'selector' || p.name.startsWith('selector.'));
  if (selector.length) translateSelector(selector, body, ctx);
  const interceptors = props.filter((p) => p.name === 'interceptors' || p.name.startsWith('interceptors.'));
  if (interceptors.length) translateInterceptors(summary, interceptors, body, agent, ctx);
  const taken = new Set([channels, ...selector, ...interceptors]);
  const wrong = props.find((p) => p.name === 'channel');
  if (wrong) ctx.error(wrong, 'a source lists its channels with "channels" (plural): write channels = ' + wrong.value + '.');
  return props.filter((p) => !taken.has(p) && p !== wrong);
}

function wireSink(props: Prop[], body: YMap, summary: Summary): Prop[] {
  const channel = props.find((p) => p.name === 'channel');
  if (channel) {
    summary.channels = [channel.value.trim()];
    body.entries.set('channel', leaf(channel.yaml.trim(), pos(channel)));
  }
  return props.filter((p) => p !== channel);
}

const REF = /\$\{([^}]*)\}/g;
const ENV = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Flume 1.10+ `${env:NAME}` (and `${env:NAME:-default}`) in values; other lookups are errors. */
function substitute(p: Property, env: NodeJS.ProcessEnv, ctx: Ctx): Prop | undefined {
  const base: Prop = { ...p, name: p.key, yaml: p.value, expanded: p.value };
  if (!p.value.includes('${')) return base;
  let ok = true;
  const yaml = p.value.replace(REF, (m, inner: string) => {
    const e = ENV.exec(inner);
    if (!e) {
      ok = false;
      ctx.error(base, `${m} cannot be resolved: only \${env:NAME} (or \${env:NAME:-default}) is supported in values.`, p.key);
      return m;
    }
    return e[2] === undefined ? `\${${e[1]}}` : `\${${e[1]}:-${e[2]}}`;
  });
  if (!ok) return undefined;
  let unset = false;
  const expanded = p.value.replace(REF, (_m, inner: string) => {
    const [, n, d] = ENV.exec(inner)!;
    const v = env[n!];
    if (v !== undefined && v !== '') return v;
    if (d === undefined) unset = true;
    return d ?? '';
  });
  return { ...base, yaml, expanded: unset ? undefined : expanded };
}

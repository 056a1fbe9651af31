/**
 * Validates a loaded configuration completely: the top-level shape, every component against its plugin's schema
 * (filling defaults), and the wiring between components. Every problem is collected with its line and column and
 * reported at once; nothing falls back silently to a default.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { secretValues } from '../log.ts';
import { deepFreeze } from '../util/freeze.ts';
import type { ComponentKind, PluginDefinition } from '../types.ts';
import { PluginRegistry } from '../registry.ts';
import { compile } from './ajv.ts';
import { toMillis } from './duration.ts';
import { nodeAt, positionOf, type LoadedConfig } from './load.ts';
import { ajvProblems } from './ajv-problems.ts';
import { ConfigError, didYouMean, type Problem } from './problems.ts';
import { TOP_SCHEMA, componentSchema } from './schemas.ts';
import { checkWiring, resolveSinkGroups } from './wiring.ts';

export interface ResolvedComponent {
  name: string;
  kind: ComponentKind;
  type: string;
  def: PluginDefinition;
  /** Validated, defaulted, frozen. */
  config: Readonly<Record<string, any>>;
}

/** A sink group with its processor's type-specific defaults filled in. */
export interface ResolvedSinkGroup {
  name: string;
  /** Member sink names, in list order. */
  sinks: string[];
  type: 'failover' | 'load_balance';
  /** failover: sink name to priority (higher wins); members without one rank below, in list order. */
  priority: Record<string, number>;
  selector: 'round_robin' | 'random';
  backoff: boolean;
  maxPenaltyMs: number;
}

export interface ResolvedAgent {
  name: string;
  sources: ResolvedComponent[];
  processors: ResolvedComponent[];
  channels: ResolvedComponent[];
  sinks: ResolvedComponent[];
  sinkGroups: ResolvedSinkGroup[];
  deadLetterChannel: string | undefined;
  shutdownTimeoutMs: number;
  tickIntervalMs: number;
}

export interface ResolvedConfig {
  file: string;
  dir: string;
  metrics: { enabled: boolean; host: string; port: number; token?: string };
  logLevel: string;
  /** File watching for reloads (`reload:`), defaults filled. */
  reload: { watch: boolean; debounceMs: number };
  agents: Record<string, ResolvedAgent>;
  envValues: Set<string>;
}

const SECTIONS: [string, ComponentKind][] = [['sources', 'source'], ['processors', 'processor'], ['channels', 'channel'], ['sinks', 'sink']];

export async function validateConfig(loaded: LoadedConfig, registry = new PluginRegistry()): Promise<ResolvedConfig> {
  const problems: Problem[] = [];
  const locate = (path: (string | number)[], message: string, atKey = false) => {
    const { node, keyNode, exact } = nodeAt(loaded.doc, path);
    const target = exact && atKey && keyNode ? keyNode : (node ?? keyNode);
    // A value with no node (an empty document, `? key` without a value) is still located: at its key, or 1:1.
    const at = positionOf(loaded.lines, target);
    problems.push({ path, message, file: loaded.file, ...(at.line ? at : { line: 1, col: 1 }) });
  };

  const root = structuredClone(loaded.value ?? {}) as Record<string, any>;
  const top = compile(TOP_SCHEMA);
  // Component bodies are validated below by their own schemas; here only the frame.
  if (!top(root)) for (const p of ajvProblems(top.errors ?? [], [])) locate(p.path, p.message, p.atKey);

  for (const [i, spec] of (Array.isArray(root.plugins) ? root.plugins : []).entries()) {
    if (typeof spec !== 'string') continue;
    try {
      await registry.importModule(spec, loaded.dir);
    } catch (error) {
      locate(['plugins', i], (error as Error).message);
    }
  }

  const agents: Record<string, ResolvedAgent> = {};
  const agentEntries = root.agents && typeof root.agents === 'object' ? Object.entries(root.agents as Record<string, any>) : [];
  for (const [agentName, agent] of agentEntries) {
    if (!agent || typeof agent !== 'object') continue;
    const resolved: ResolvedAgent = {
      name: agentName,
      sources: [],
      processors: [],
      channels: [],
      sinks: [],
      sinkGroups: [],
      deadLetterChannel: agent.deadLetter?.channel,
      shutdownTimeoutMs: safeMillis(agent.shutdownTimeout ?? 30),
      tickIntervalMs: Math.max(10, safeMillis(agent.tickInterval ?? 1)),
    };
    for (const [section, kind] of SECTIONS) {
      const entries: [string, any][] = agent[section] && typeof agent[section] === "object" ? Object.entries(agent[section] as Record<string, any>) : [];
      for (const [name, body] of entries) {
        if (!body || typeof body !== 'object' || Array.isArray(body)) continue;
        const base = ['agents', agentName, section, name];
        if (body.type === null) body.type = 'null';
        if (body.type === undefined) {
          locate(base, `missing required key "type": the plugin type, a built-in ${kind} name (${registry.typeNames(kind).join(', ')}) or a path to a plugin module.`, true);
          continue;
        }
        if (typeof body.type !== 'string') {
          locate([...base, 'type'], `must be a string naming a ${kind} type (${registry.typeNames(kind).join(', ')}) or a plugin module path; got ${JSON.stringify(body.type)}.`);
          continue;
        }
        let def: PluginDefinition | undefined;
        try {
          def = await registry.resolve(kind, body.type, loaded.dir);
        } catch (error) {
          locate([...base, 'type'], (error as Error).message);
          continue;
        }
        if (!def) {
          const known = registry.typeNames(kind);
          const guess = didYouMean(body.type, known);
          locate([...base, 'type'], `unknown ${kind} type "${body.type}"${guess ? `; did you mean "${guess}"?` : '.'} Built-in ${kind} types: ${known.join(', ')}; or give a path to a plugin module or the name of an installed plugin package.`);
          continue;
        }
        const validate = compile(componentSchema(kind, def.schema));
        if (!validate(body)) {
          for (const p of ajvProblems(validate.errors ?? [], base)) locate(p.path, p.message, p.atKey);
          continue;
        }
        const lints = def.lint?.(body as Record<string, any>) ?? [];
        // A dotted key ("rules.4.when") names a nested value: located at its own line, not the component's.
        for (const l of lints) locate(l.key ? [...base, ...l.key.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p))] : base, l.message);
        if (lints.length) continue;
        const literal = literalSecrets(def, body as Record<string, any>, loaded.envValues);
        for (const key of literal) {
          locate([...base, ...key.split('.')], `a credential must not be written into the configuration file: give it from the environment (${key.split('.').pop()}: "\${MY_SECRET}") or put it in a file and use ${key.split('.').pop()}File.`);
        }
        if (literal.length) continue;
        rememberSecrets(def, body as Record<string, any>, loaded.dir);
        (resolved[section as 'sources'] as ResolvedComponent[]).push({ name, kind, type: String((body as Record<string, any>).type), def, config: deepFreeze(body as Record<string, any>) });
      }
    }
    for (const p of checkWiring(agent, agentName, resolved)) locate(p.path, p.message);
    resolved.sinkGroups = resolveSinkGroups(agent.sinkGroups);
    agents[agentName] = resolved;
  }

  if (problems.length) throw new ConfigError(dedupe(problems));
  const metrics = { enabled: true, host: '127.0.0.1', port: 9464, ...(root.metrics ?? {}) };
  const reload = { watch: root.reload?.watch ?? true, debounceMs: safeMillis(root.reload?.debounce ?? 500, 'ms') };
  return { file: loaded.file, dir: loaded.dir, metrics, logLevel: root.logLevel ?? 'info', reload, agents, envValues: loaded.envValues };
}

/** Secret keys whose value was written literally in the file rather than substituted from `${ENV}`. */
function literalSecrets(def: PluginDefinition, body: Record<string, any>, envValues: Set<string>): string[] {
  return (def.secrets ?? []).filter((key) => {
    const value = key.split('.').reduce<any>((v, k) => (v && typeof v === 'object' ? v[k] : undefined), body);
    return typeof value === 'string' && value.length > 0 && !envValues.has(value);
  });
}

/**
 * Keeps a component's credentials out of every log line and /status body: literal values of its secret keys, and
 * the contents of their `*File` companions (read here once; the plugin reads them again itself).
 */
function rememberSecrets(def: PluginDefinition, body: Record<string, any>, dir: string): void {
  for (const key of def.secrets ?? []) {
    const value = key.split('.').reduce<any>((v, k) => (v && typeof v === 'object' ? v[k] : undefined), body);
    if (typeof value === 'string' && value.length > 0) secretValues.add(value, `[${key}]`);
    const file = key.split('.').reduce<any>((v, k, i, all) => (v && typeof v === 'object' ? v[i === all.length - 1 ? `${k}File` : k] : undefined), body);
    if (typeof file !== 'string') continue;
    try {
      const content = readFileSync(resolve(dir, file), 'utf8').trim();
      if (content) secretValues.add(content, `[${key}File]`);
    } catch {
      // unreadable: the plugin reports it when it reads the file
    }
  }
}

function safeMillis(v: string | number, unit: 'ms' | 's' = 's'): number {
  try {
    return toMillis(v, unit);
  } catch {
    return 30_000;
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

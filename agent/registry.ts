/**
 * Plugin registry. Built-ins are loaded lazily by type (a Kafka client is not imported by an agent that has no
 * Kafka component); `plugins:` modules and `type: ./path.js` or a package name are imported and checked. The core
 * names built-ins only in this table; it knows nothing else about them.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire, isBuiltin } from 'node:module';
import { AgentError, ErrorCodes } from './errors.ts';
import type { ComponentKind, PluginDefinition } from './types.ts';

type Loader = () => Promise<{ default: PluginDefinition }>;

const BUILTINS: Record<ComponentKind, Record<string, Loader>> = {
  source: {
    spooldir: () => import('../plugins/sources/spooldir.ts'),
    generator: () => import('../plugins/sources/generator.ts'),
    kafka: () => import('../plugins/sources/kafka.ts'),
  },
  channel: {
    memory: () => import('../plugins/channels/memory.ts'),
    file: () => import('../plugins/channels/file.ts'),
  },
  sink: {
    logger: () => import('../plugins/sinks/logger.ts'),
    null: () => import('../plugins/sinks/null.ts'),
    file_roll: () => import('../plugins/sinks/file-roll.ts'),
    kafka: () => import('../plugins/sinks/kafka.ts'),
    influxdb: () => import('../plugins/sinks/influxdb.ts'),
    elasticsearch: () => import('../plugins/sinks/elasticsearch.ts'),
    hdfs: () => import('../plugins/sinks/hdfs.ts'),
  },
  processor: {
    timestamp: () => import('../plugins/processors/timestamp.ts'),
    host: () => import('../plugins/processors/host.ts'),
    static: () => import('../plugins/processors/static.ts'),
    filter: () => import('../plugins/processors/filter.ts'),
    'json-schema': () => import('../plugins/processors/json-schema.ts'),
    fraud: () => import('../plugins/processors/fraud.ts'),
    aggregate: () => import('../plugins/processors/aggregate.ts'),
  },
};

const KINDS: readonly ComponentKind[] = ['source', 'channel', 'sink', 'processor'];

export function isPluginReference(type: string): boolean {
  return type.startsWith('.') || type.startsWith('/') || type.includes('/') || type.endsWith('.js') || type.endsWith('.ts') || type.endsWith('.mjs');
}

function isInstalledPackage(name: string, baseDir: string): boolean {
  // Node's own modules resolve too, but `type: http` is a Flume type name, never a plugin.
  if (isBuiltin(name)) return false;
  try {
    createRequire(resolve(baseDir, 'noop.js')).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Checks that a module's default export is a plugin definition; returns a message naming what is wrong. */
export function checkDefinition(def: unknown, origin: string): PluginDefinition {
  const problems: string[] = [];
  const d = def as Partial<PluginDefinition> | undefined;
  if (!d || typeof d !== 'object') problems.push('the default export is not an object (use `export default definePlugin({...})`)');
  else {
    if (!KINDS.includes(d.kind as ComponentKind)) problems.push(`kind must be one of ${KINDS.join(', ')}`);
    if (typeof d.type !== 'string' || !d.type) problems.push('type must be a non-empty string');
    if (!d.schema || typeof d.schema !== 'object') problems.push('schema must be a JSON Schema object');
    if (typeof d.create !== 'function') problems.push('create must be a function');
    if (typeof d.description !== 'string') problems.push('description must be a string');
  }
  if (problems.length) throw new AgentError(ErrorCodes.PLUGIN_INVALID, `Plugin ${origin} is invalid: ${problems.join('; ')}.`);
  return d as PluginDefinition;
}

export class PluginRegistry {
  private readonly loaded = new Map<string, PluginDefinition>();
  private readonly external = new Map<string, PluginDefinition>();

  /** Built-in type names per kind (for "did you mean" and `plugins`). */
  typeNames(kind: ComponentKind): string[] {
    const names = new Set([...Object.keys(BUILTINS[kind]), ...[...this.external.values()].filter((d) => d.kind === kind).map((d) => d.type)]);
    return [...names].sort();
  }

  /** Imports a plugin module (path relative to baseDir, or a package name) and registers its definition. */
  async importModule(spec: string, baseDir: string): Promise<PluginDefinition> {
    let url: string;
    if (spec.startsWith('.') || isAbsolute(spec)) url = pathToFileURL(resolve(baseDir, spec)).href;
    else {
      try {
        url = pathToFileURL(createRequire(resolve(baseDir, 'noop.js')).resolve(spec)).href;
      } catch {
        url = spec;
      }
    }
    let mod: { default?: unknown };
    try {
      mod = await import(url);
    } catch (error) {
      throw new AgentError(ErrorCodes.PLUGIN_LOAD, `Cannot load plugin module "${spec}": ${(error as Error).message}. Check the path (relative to the config file) or install the package.`, { cause: error });
    }
    const def = checkDefinition(mod.default, `"${spec}"`);
    this.external.set(`${def.kind}:${def.type}`, def);
    this.external.set(`${def.kind}:${spec}`, def);
    return def;
  }

  register(def: PluginDefinition): void {
    checkDefinition(def, `"${def?.type}"`);
    this.external.set(`${def.kind}:${def.type}`, def);
  }

  /** The definition for a `type:` value, or undefined when no such plugin exists. */
  async resolve(kind: ComponentKind, type: string, baseDir: string): Promise<PluginDefinition | undefined> {
    const key = `${kind}:${type}`;
    const ext = this.external.get(key);
    if (ext) return ext;
    const cached = this.loaded.get(key);
    if (cached) return cached;
    const loader = BUILTINS[kind][type];
    if (loader) {
      const def = checkDefinition((await loader()).default, `built-in ${kind} "${type}"`);
      this.loaded.set(key, def);
      return def;
    }
    // A bare name that is no built-in may be a package installed beside the config; only then is it imported, so a
    // misspelt built-in stays an "unknown type" with its suggestion.
    if (isPluginReference(type) || !/^[a-z_][a-z0-9_-]*$/i.test(type) || isInstalledPackage(type, baseDir)) {
      const def = await this.importModule(type, baseDir);
      if (def.kind !== kind) throw new AgentError(ErrorCodes.PLUGIN_INVALID, `Plugin "${type}" is a ${def.kind}, used here as a ${kind}.`);
      return def;
    }
    return undefined;
  }

  /** Every built-in and registered definition (loads all built-ins). */
  async all(): Promise<PluginDefinition[]> {
    const out: PluginDefinition[] = [];
    for (const kind of KINDS) for (const type of Object.keys(BUILTINS[kind])) out.push((await this.resolve(kind, type, process.cwd()))!);
    const seen = new Set(out);
    for (const def of this.external.values()) if (!seen.has(def)) (seen.add(def), out.push(def));
    return out;
  }
}

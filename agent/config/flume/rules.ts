/**
 * How one Flume component's keys become this project's keys: a table per component type (components.ts) of
 * rules, applied here. A key the table does not know is an error naming its line, with the supported keys and a
 * "did you mean"; a key that has no effect here is accepted with a warning saying why; nothing is dropped silently.
 */
import type { HadoopConf } from './hadoop-conf.ts';
import type { Property } from './properties.ts';
import { didYouMean } from '../problems.ts';
import { leaf, type Pos, type Scalar, type YMap } from './yaml-out.ts';

/** A property of one component: `name` is the key after `<agent>.<section>.<component>.`. */
export interface Prop extends Property {
  name: string;
  /** The value with `${env:X}` written as the YAML loader's `${X}`. */
  yaml: string;
  /** The value with the environment substituted (undefined when a variable is unset and has no default). */
  expanded: string | undefined;
}

export interface Ctx {
  file: string;
  env: NodeJS.ProcessEnv;
  error(p: Prop | Pos, message: string, key?: string): void;
  warn(p: Prop | Pos, message: string, key?: string): void;
  hadoop(): HadoopConf | undefined;
}

export type Conv = 'str' | 'int' | 'bool' | 'lower' | 'csv' | 'words';

export interface KeyRule {
  /** Target key; default: the Flume key. */
  to?: string;
  as?: Conv;
  /** Custom translation. */
  map?: (p: Prop, out: YMap, ctx: Ctx, state: Record<string, unknown>) => void;
  /** Accepted with a warning: why the key has no effect here. */
  ignored?: string;
  /** An error: why the key cannot be honoured, and what to do instead. */
  unsupported?: string;
}

export interface PrefixRule {
  prefix: string;
  handle(suffix: string, p: Prop, out: YMap, ctx: Ctx, state: Record<string, unknown>): boolean;
}

export interface TypeSpec {
  /** This project's plugin type. */
  target: string;
  /** Flume's aliases (matched case-insensitively, as Flume does) and class names. */
  names: string[];
  keys: Record<string, KeyRule>;
  prefixes?: PrefixRule[];
  /** Keys filled in with Flume's default when the file leaves them out: [key, value, why]. */
  defaults?: [string, Scalar, string][];
  finish?: (out: YMap, ctx: Ctx, typeProp: Prop, state: Record<string, unknown>) => void;
}

export const pos = (p: Prop | Pos): Pos => ({ line: p.line, col: p.col, valueLine: p.valueLine, valueCol: p.valueCol });
const hasRef = (p: Prop) => p.yaml !== p.value || p.yaml.includes('${');

/** Converts a value; a value that does not parse stays a string, so that validation reports it at its line. */
export function convert(p: Prop, as: Conv = 'str'): Scalar | Scalar[] {
  switch (as) {
    case 'int':
      if (/^\s*-?\d+\s*$/.test(p.value)) return Number(p.value);
      return hasRef(p) ? { raw: p.yaml } : p.value;
    case 'bool':
      if (/^(true|false)$/i.test(p.value.trim())) return p.value.trim().toLowerCase() === 'true';
      return hasRef(p) ? { raw: p.yaml } : p.value;
    case 'lower':
      return hasRef(p) ? p.yaml : p.value.toLowerCase();
    case 'csv':
    case 'words':
      // Lists are split after substitution, so a variable holding "a:9092,b:9092" gives two entries.
      return (p.expanded ?? p.yaml).split(as === 'csv' ? /\s*,\s*/ : /\s+/).map((s) => s.trim()).filter(Boolean);
    default:
      return p.yaml;
  }
}

export const isTrue = (p: Prop) => p.value.trim().toLowerCase() === 'true';

/** Applies a type's rules to a component's properties (type, channels and the like already taken out). */
export function applyRules(spec: TypeSpec, kindLabel: string, props: Prop[], out: YMap, ctx: Ctx, typeProp: Prop): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const p of props) {
    const rule = spec.keys[p.name];
    if (rule) {
      seen.add(rule.to ?? p.name);
      if (rule.unsupported) ctx.error(p, `${p.name} is not supported: ${rule.unsupported}`);
      else if (rule.ignored) ctx.warn(p, `${p.name} has no effect here and is ignored: ${rule.ignored}`);
      else if (rule.map) rule.map(p, out, ctx, state);
      else {
        const splitRef = (rule.as === 'csv' || rule.as === 'words') && hasRef(p);
        out.entries.set(rule.to ?? p.name, leaf(convert(p, rule.as), pos(p), splitRef ? 'a list: the environment variable was substituted when the file was read' : undefined));
      }
      continue;
    }
    const prefix = spec.prefixes?.find((r) => p.name.startsWith(r.prefix));
    if (prefix && prefix.handle(p.name.slice(prefix.prefix.length), p, out, ctx, state)) continue;
    if (prefix) continue; // the prefix rule reported it
    const known = Object.keys(spec.keys).filter((k) => !spec.keys[k]!.unsupported);
    const guess = didYouMean(p.name, known);
    const prefixes = spec.prefixes?.length ? `, ${spec.prefixes.map((r) => `${r.prefix}*`).join(', ')}` : '';
    ctx.error(p, `unknown key "${p.name}" for a Flume ${kindLabel}${guess ? `; did you mean "${guess}"?` : '.'} Supported keys: ${known.join(', ')}${prefixes}.`);
  }
  for (const [key, value, why] of spec.defaults ?? []) {
    if (!out.entries.has(key) && !seen.has(key)) out.entries.set(key, leaf(value, pos(typeProp), why));
  }
  spec.finish?.(out, ctx, typeProp, state);
  return state;
}

/** The spec whose names include a Flume type (aliases case-insensitively). */
export function findSpec(specs: readonly TypeSpec[], type: string): TypeSpec | undefined {
  return specs.find((s) => s.names.some((n) => (n.includes('.') ? n === type : n.toLowerCase() === type.toLowerCase())));
}

/** The Flume type names a list of specs accepts, for error messages. */
export const typeNames = (specs: readonly TypeSpec[]) => specs.flatMap((s) => s.names);

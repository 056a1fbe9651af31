/**
 * What the rule types share: the contract between a rule and the processor, field access on parsed bodies, and
 * the schema pieces every rule type repeats. A rule is built once from its validated config; `check` is called per
 * event with the body already parsed, its id and its time, so nothing here parses or allocates per event unless
 * the rule fires.
 */
import { type ComponentContext, type JsonSchema, durationSchema } from '../../../agent/index.ts';
import type { WindowSpec } from './key-window.ts';
import type { WindowStore } from './window-store.ts';

export type RuleType = 'frequency' | 'threshold' | 'pair-volume' | 'distinct' | 'expression';

/** What a firing rule reports; the processor adds ruleId, ruleType and detectedAt. */
export interface Hit {
  keys: Record<string, string>;
  value: number | string | boolean | null;
  threshold: number | null;
  /** threshold rules: every bound that had to hold. */
  bounds?: Record<string, number>;
  /** Windowed rules: the trailing window that crossed, epoch milliseconds. */
  windowStart?: number;
  windowEnd?: number;
  transactionIds: string[];
  message: string;
}

type Counter = ReturnType<ComponentContext['metrics']['counter']>;

/** Shared by all rules of one processor. */
export interface RuleEnv {
  readonly store: WindowStore;
  readonly maxIds: number;
  /** A rule skipped an event that lacks its key or field (or has one of the wrong type). */
  readonly skipped: Counter;
  readonly late: Counter;
  readonly overflow: Counter;
  readonly expressionErrors: Counter;
  /** Logs at most one line per key per interval. */
  warnLimited(key: string, message: string, fields?: Record<string, unknown>): void;
  readonly log: ComponentContext['log'];
}

export interface Rule {
  readonly id: string;
  readonly type: RuleType;
  /** Windowed rules only: their window, and the time field (undefined: the processor's timeField). */
  readonly window?: { spec: WindowSpec; table: number; timeField: string | undefined };
  /** Looks at one event (its JSON body, id, and time in epoch milliseconds for windowed rules). */
  check(data: Record<string, unknown>, id: string | undefined, time: number, env: RuleEnv): Hit | undefined;
}

export interface RuleConfig {
  id: string;
  type: RuleType;
  [key: string]: unknown;
}

/** A rule type: its own schema keys (besides id and type), cross-field checks, and its factory. */
export interface RuleModule {
  readonly type: RuleType;
  readonly description: string;
  readonly properties: Record<string, JsonSchema>;
  readonly required: readonly string[];
  lint?(rule: RuleConfig): { key?: string; message: string }[];
  create(rule: RuleConfig, shared: { store: WindowStore; maxEntries: number }): Rule;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** A reader for a top-level or dotted field (own properties only); the path is split once. */
export function fieldReader(path: string): (data: Record<string, unknown>) => unknown {
  if (!path.includes('.')) return (data) => (hasOwn.call(data, path) ? data[path] : undefined);
  const parts = path.split('.');
  return (data) => {
    let v: unknown = data;
    for (let i = 0; i < parts.length; i++) {
      if (v === null || typeof v !== 'object' || !hasOwn.call(v, parts[i]!)) return undefined;
      v = (v as Record<string, unknown>)[parts[i]!];
    }
    return v;
  };
}

/** A key value as text: strings, finite numbers and booleans; anything else is no key. */
export function keyText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length ? v : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

const NUMERIC = /^\s*-?\d+(?:\.\d+)?\s*$/;

/** A number, or a decimal string (feeds that keep amounts as text for precision); anything else is undefined. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}

/** "60s", "10m", "1h", "250ms": the largest unit that divides the duration. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const fieldSchema = (description: string): JsonSchema => ({ type: 'string', minLength: 1, description });

/** Keys every windowed rule has. */
export function windowedProperties(measured: string): Record<string, JsonSchema> {
  return {
    window: durationSchema(`Length of the trailing window, in event time (or processing time without a timeField).`, 's'),
    threshold: { type: 'number', minimum: 0, description: `The rule fires when ${measured} within the window is greater than this.` },
    timeField: fieldSchema("Field holding this rule's event time, overriding the processor's timeField."),
  };
}

/**
 * The two outputs of a firing rule: an anomaly event (a JSON body with a fixed key order, so every anomaly of every
 * rule type has the same shape and an index mapping never conflicts) and, with `annotate`, the flag on the
 * original event.
 */
import { Event } from '../../../agent/index.ts';
import type { Hit, RuleType } from './rule.ts';

export interface AnomalyBody {
  ruleId: string;
  ruleType: RuleType;
  keys: Record<string, string>;
  value: number | string | boolean | null;
  threshold: number | null;
  bounds?: Record<string, number>;
  windowStart?: string;
  windowEnd?: string;
  transactionIds: string[];
  detectedAt: string;
  message: string;
}

const MAX_DATE = 8.64e15;

/** ISO-8601 of epoch milliseconds, clamped to Date's range (a window start can reach below it for huge windows). */
export const iso = (ms: number): string => new Date(Math.max(-MAX_DATE, Math.min(MAX_DATE, ms))).toISOString();

export function anomalyEvent(rule: { id: string; type: RuleType }, hit: Hit, detectedAt: string): Event {
  const body: AnomalyBody = {
    ruleId: rule.id,
    ruleType: rule.type,
    keys: hit.keys,
    value: hit.value,
    threshold: hit.threshold,
    ...(hit.bounds !== undefined ? { bounds: hit.bounds } : {}),
    ...(hit.windowStart !== undefined ? { windowStart: iso(hit.windowStart), windowEnd: iso(hit.windowEnd!) } : {}),
    transactionIds: hit.transactionIds,
    detectedAt,
    message: hit.message,
  };
  return Event.fromData(body, { ruleId: rule.id, ruleType: rule.type });
}

export const FLAGS = 'fraudFlags';

/**
 * Adds the rule ids to the event's `fraudFlags` header (comma-separated) and, for an object body, to a
 * `fraudFlags` array field, keeping flags an upstream fraud processor set. The body is copied, not mutated: a
 * clone of this event sent to another channel shares it.
 */
export function annotate(event: Event, data: Record<string, unknown>, ruleIds: readonly string[]): void {
  const header = event.headers[FLAGS];
  event.headers[FLAGS] = merge(header ? header.split(',') : [], ruleIds).join(',');
  const existing = data[FLAGS];
  event.setData({ ...data, [FLAGS]: merge(Array.isArray(existing) ? existing.filter((x): x is string => typeof x === 'string') : [], ruleIds) });
}

function merge(before: readonly string[], added: readonly string[]): string[] {
  const out = before.slice();
  for (const id of added) if (!out.includes(id)) out.push(id);
  return out;
}

/**
 * Streaming fraud rules: each event of a batch is checked against every rule (velocity per key, large amounts,
 * pair volume as in the fintrans demo's money-laundering detector, distinct values per key, free expressions);
 * a firing rule emits an anomaly event to `emitTo` and, with `annotate`, flags the event that made it fire. The
 * original events always pass through unchanged otherwise.
 *
 * Windowed rules run on event time when a time field is set (replays and late batches then give the same anomalies
 * as live traffic), else on processing time. Their state is bounded (keys, entries per key) and expires with the
 * window; see fraud/window-store.ts. State is not transactional: a batch a source redelivers is counted again.
 */
import { AgentError, ErrorCodes, type Event, definePlugin, toMillis } from '../../agent/index.ts';
import { UTC, parseEventTime } from '../shared/event-time.ts';
import { annotate, anomalyEvent } from './fraud/anomaly.ts';
import { distinct } from './fraud/distinct.ts';
import { expression } from './fraud/expression.ts';
import { frequency } from './fraud/frequency.ts';
import { pairVolume } from './fraud/pair-volume.ts';
import { type Rule, type RuleConfig, type RuleEnv, type RuleModule, fieldReader, fieldSchema, keyText } from './fraud/rule.ts';
import { threshold } from './fraud/threshold.ts';
import { WindowStore } from './fraud/window-store.ts';

export interface FraudConfig {
  emitTo: string[];
  annotate: boolean;
  timeField?: string;
  idField: string;
  maxIdsPerAnomaly: number;
  maxKeys: number;
  maxEventsPerKey: number;
  rules: RuleConfig[];
}

export const RULE_TYPES: readonly RuleModule[] = [frequency, threshold, pairVolume, distinct, expression];
const MODULES = new Map(RULE_TYPES.map((m) => [m.type, m]));

const ruleId = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'Unique id of the rule (letters, digits, _ and -), named in anomalies, flags and metrics.' };
const ruleType = { enum: RULE_TYPES.map((m) => m.type), description: RULE_TYPES.map((m) => `${m.type}: ${m.description}`).join('; ') + '.' };

// One if/then per type rather than a oneOf: ajv then reports a typo inside a rule as an unknown key with the
// rule type's valid keys, where a failed oneOf could only say that the rule matches none of the five shapes.
const ruleSchema = {
  type: 'object',
  description: 'One rule: id, type and the keys of that type.',
  required: ['id', 'type'],
  properties: { id: ruleId, type: ruleType },
  allOf: RULE_TYPES.map((m) => ({
    if: { properties: { type: { const: m.type } }, required: ['type'] },
    then: { additionalProperties: false, required: [...m.required], properties: { id: ruleId, type: ruleType, ...m.properties } },
  })),
};

/** Prometheus-safe rule id for metric names. */
export const metricId = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');

function lint(config: Readonly<FraudConfig>): { key?: string; message: string }[] {
  const out: { key?: string; message: string }[] = [];
  const seen = new Map<string, number>();
  config.rules.forEach((rule, i) => {
    const at = (key?: string) => `rules.${i}${key ? `.${key}` : ''}`;
    const twin = seen.get(metricId(rule.id));
    if (twin !== undefined) {
      const same = config.rules[twin]!.id === rule.id;
      out.push({ key: at('id'), message: `rule id "${rule.id}" ${same ? 'is already used by' : 'gives the same metric name as'} rules.${twin} ("${config.rules[twin]!.id}"): rule ids must be unique.` });
    } else seen.set(metricId(rule.id), i);
    const module = MODULES.get(rule.type);
    for (const p of module?.lint?.(rule) ?? []) out.push({ key: at(p.key), message: p.message });
    if (rule.window !== undefined && !(toMillis(rule.window as string | number, 's') > 0)) out.push({ key: at('window'), message: 'must be longer than 0: the trailing window the rule counts over.' });
    if ((rule.type === 'frequency' || rule.type === 'distinct') && typeof rule.threshold === 'number' && rule.threshold >= config.maxEventsPerKey) {
      out.push({ key: at('threshold'), message: `threshold ${rule.threshold} can never be exceeded with maxEventsPerKey ${config.maxEventsPerKey}: raise maxEventsPerKey above it.` });
    }
  });
  if (config.emitTo.length === 0 && !config.annotate) out.push({ key: 'emitTo', message: 'anomalies would go nowhere: name a channel in emitTo, or set annotate: true.' });
  return out;
}

/** Dates beyond this are not representable; such a time is treated as missing. */
const MAX_TIME = 8.64e15;

export default definePlugin<'processor', FraudConfig>({
  kind: 'processor',
  type: 'fraud',
  description: 'Streaming fraud rules (velocity, large amounts, pair volume, distinct values, expressions) that emit anomaly events and can flag the events.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      emitTo: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [], description: 'Channels that receive one anomaly event (JSON: ruleId, ruleType, keys, value, threshold, windowStart, windowEnd, transactionIds, detectedAt, message) per firing rule.' },
      annotate: { type: 'boolean', default: false, description: 'Also flag the event that made a rule fire: header fraudFlags (comma-separated rule ids) and body field fraudFlags (array of rule ids).' },
      timeField: fieldSchema('Field holding the event time for windowed rules (epoch s/ms/µs/ns or ISO-8601; no offset means UTC). Unset: processing time. Events without a valid time skip the windowed rules and are counted.'),
      idField: { ...fieldSchema('Field holding the transaction id listed in anomalies (transactionIds).'), default: 'transactionId' },
      maxIdsPerAnomaly: { type: 'integer', minimum: 0, default: 100, description: 'Most transaction ids listed in one anomaly (the newest of the window).' },
      maxKeys: { type: 'integer', minimum: 1, default: 1_000_000, description: 'Most keys (users, pairs, ...) tracked across all windowed rules; beyond it the least recently seen key is evicted (counted in keys_evicted_total).' },
      maxEventsPerKey: { type: 'integer', minimum: 1, default: 10_000, description: "Most events kept in one key's window; beyond it the oldest is dropped (counted in window_entries_dropped_total)." },
      rules: {
        type: 'array',
        minItems: 1,
        items: ruleSchema,
        description:
          'The rules, each checked on every event: objects with a unique id, a type and its keys (optional ones in brackets): ' +
          RULE_TYPES.map((m) => `${m.type} (${Object.keys(m.properties).map((k) => (m.required.includes(k) ? k : `[${k}]`)).join(', ')}): ${m.description}`).join('; ') +
          '. Windowed rules fire at most once per key and window. `fintrans-agent plugins --json-schema processor/fraud` describes every key.',
      },
    },
    required: ['rules'],
  },
  lint,
  create(config, ctx) {
    const problems = lint(config);
    if (problems.length) throw new AgentError(ErrorCodes.CONFIG_INVALID, `fraud: ${problems.map((p) => `${p.key ?? ''}: ${p.message}`).join('; ')}`);
    const m = ctx.metrics;
    const store = new WindowStore(config.maxKeys, m.counter('keys_evicted_total', 'Keys evicted because maxKeys was reached.'));
    const rules: Rule[] = config.rules.map((r) => MODULES.get(r.type)!.create(r, { store, maxEntries: config.maxEventsPerKey }));
    const fired = rules.map((r) => m.counter(`anomalies_${metricId(r.id)}_total`, `Anomalies of rule ${r.id}.`));
    const anomalies = m.counter('anomalies_total', 'Anomalies of all rules.');
    const keysTracked = m.gauge('keys_tracked', 'Keys currently tracked by the windowed rules.');
    const withoutTime = m.counter('events_without_time_total', 'Events whose time field was missing or unparseable; windowed rules skipped them.');
    const unreadable = m.counter('events_unreadable_total', 'Events whose body is not a JSON object; no rule applies to them.');
    const limits = new Map<string, { at: number; suppressed: number }>();
    const env: RuleEnv = {
      store,
      maxIds: config.maxIdsPerAnomaly,
      skipped: m.counter('rule_skips_total', "Rule checks skipped because the event lacks the rule's key or field (or it is not a string or number)."),
      late: m.counter('late_events_total', "Events older than their key's trailing window (out of order by more than the window); ignored for that key."),
      overflow: m.counter('window_entries_dropped_total', 'Oldest window entries dropped because a key reached maxEventsPerKey.'),
      expressionErrors: m.counter('expression_errors_total', 'Expression rule evaluations that failed (missing field, type mismatch); the rule did not fire.'),
      log: ctx.log,
      warnLimited(key, message, fields) {
        const now = Date.now();
        const entry = limits.get(key);
        if (entry && now - entry.at < 10_000) return void entry.suppressed++;
        limits.set(key, { at: now, suppressed: 0 });
        ctx.log.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
      },
    };
    // One time per distinct time field (undefined: processing time), parsed once per event for all rules.
    const timeFields = [...new Set(rules.filter((r) => r.window).map((r) => r.window!.timeField ?? config.timeField))];
    const timeReaders = timeFields.map((f) => (f === undefined ? undefined : fieldReader(f)));
    const timeSlot = rules.map((r) => (r.window ? timeFields.indexOf(r.window.timeField ?? config.timeField) : -1));
    const times = new Array<number>(timeFields.length).fill(0);
    const windowed = rules.filter((r) => r.window);
    const processingTime = windowed.filter((r) => (r.window!.timeField ?? config.timeField) === undefined);
    const readId = fieldReader(config.idField);
    const keepIds = config.maxIdsPerAnomaly > 0 && rules.some((r) => r.window);
    const emitTo = config.emitTo;

    function sweep(): void {
      for (const r of windowed) store.expire(r.window!.table, r.window!.spec.watermark);
      keysTracked.set(store.size);
    }

    return {
      process(events, pctx) {
        const now = Date.now();
        let detectedAt: string | undefined;
        let out: Event[] | undefined;
        for (let e = 0; e < events.length; e++) {
          const event = events[e]!;
          let data: unknown;
          try {
            data = event.data;
          } catch {
            data = undefined;
          }
          if (data === null || typeof data !== 'object' || Array.isArray(data)) {
            unreadable.inc();
            continue;
          }
          const body = data as Record<string, unknown>;
          let id = keyText(readId(body));
          // Windows keep ids for their whole length. A source that built an id by concatenation hands over a rope
          // of dozens of string nodes (the generator's uuids: about 1.3 KB each); a flat string is about 60 bytes.
          // trim() flattens a rope and returns an already flat string (every id JSON.parse made) as it is: a copy
          // made for every event instead cost 0.3 µs, an eighth of the rules' time, and one more string to keep.
          if (id !== undefined && keepIds) {
            const flat = id.trim();
            if (flat.length === id.length) id = flat;
          }
          for (let s = 0; s < timeReaders.length; s++) {
            const read = timeReaders[s];
            const t = read === undefined ? now : parseEventTime(read(body), UTC);
            times[s] = t !== undefined && Math.abs(t) <= MAX_TIME ? t : Number.NaN;
          }
          let missingSlot = -1;
          let flags: string[] | undefined;
          for (let r = 0; r < rules.length; r++) {
            const rule = rules[r]!;
            const slot = timeSlot[r]!;
            const time = slot < 0 ? 0 : times[slot]!;
            if (time !== time) {
              missingSlot = slot;
              continue;
            }
            const hit = rule.check(body, id, time, env);
            if (hit === undefined) continue;
            (out ??= []).push(anomalyEvent(rule, hit, (detectedAt ??= new Date(now).toISOString())));
            fired[r]!.inc();
            anomalies.inc();
            (flags ??= []).push(rule.id);
          }
          if (missingSlot >= 0) {
            withoutTime.inc();
            const field = timeFields[missingSlot];
            env.warnLimited('no-time', `Events without a valid time in field "${field}" skip the windowed rules.`, { value: timeReaders[missingSlot]!(body), transactionId: id });
          }
          if (flags !== undefined && config.annotate) annotate(event, body, flags);
        }
        sweep();
        if (out !== undefined && emitTo.length) pctx.emitTo(emitTo, out);
        return events;
      },
      tick(nowMs) {
        // Processing-time windows end while the input is quiet too: advance their watermark so idle keys expire.
        for (const r of processingTime) if (nowMs > r.window!.spec.watermark) r.window!.spec.watermark = nowMs;
        sweep();
      },
    };
  },
});

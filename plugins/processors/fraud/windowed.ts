/**
 * The firing logic the windowed rule types (frequency, pair-volume, distinct) share. A key fires when its measure
 * over the trailing window (end − window, end] exceeds the threshold; it then forgets its entries and stays quiet
 * until its window ends after fire time + window, so one burst gives one anomaly per key and window, not one per
 * event after the crossing. Events after the fire accumulate meanwhile, so a burst that goes on fires again once
 * per window length.
 */
import { toMillis } from '../../../agent/index.ts';
import { type Hit, type Rule, type RuleConfig, type RuleEnv, type RuleType, formatDuration } from './rule.ts';
import type { Measure, WindowSpec } from './key-window.ts';
import type { WindowStore } from './window-store.ts';

export interface WindowedParts {
  measure: Measure;
  /** The store key of an event, or undefined when the event lacks the rule's key fields. */
  key(data: Record<string, unknown>): string | undefined;
  /** The entry value: 1 for count, a scaled integer for sum, the value's text for distinct; undefined: skip. */
  value(data: Record<string, unknown>): number | string | undefined;
  /** The threshold on the measure's scale (a sum compares scaled integers). */
  scaledThreshold: number;
  /** The anomaly's `keys` for the firing event. */
  keys(data: Record<string, unknown>): Record<string, string>;
  /** The anomaly's `value` from the measure (a sum is unscaled). */
  observed(measure: number): number;
  message(keys: Record<string, string>, observed: number, window: string): string;
  /** Called on each fire after the hit is built (pair-volume logs the seed's line). */
  onFire?(hit: Hit, env: RuleEnv): void;
}

export class WindowedRule implements Rule {
  readonly window: { spec: WindowSpec; table: number; timeField: string | undefined };
  private readonly threshold: number;
  private readonly windowText: string;

  constructor(
    readonly id: string,
    readonly type: RuleType,
    config: RuleConfig,
    shared: { store: WindowStore; maxEntries: number },
    private readonly parts: WindowedParts,
  ) {
    const windowMs = toMillis(config.window as string | number, 's');
    this.window = {
      spec: { measure: parts.measure, windowMs, maxEntries: shared.maxEntries, watermark: Number.NEGATIVE_INFINITY },
      table: shared.store.table(),
      timeField: config.timeField as string | undefined,
    };
    this.threshold = config.threshold as number;
    // As the user wrote it ("60s" stays "60s"); a bare number of seconds is shown with its unit.
    this.windowText = typeof config.window === 'string' ? config.window.trim() : formatDuration(windowMs);
  }

  check(data: Record<string, unknown>, id: string | undefined, time: number, env: RuleEnv): Hit | undefined {
    const parts = this.parts;
    const key = parts.key(data);
    const value = key === undefined ? undefined : parts.value(data);
    if (value === undefined) {
      env.skipped.inc();
      return undefined;
    }
    const { spec, table } = this.window;
    if (time > spec.watermark) spec.watermark = time;
    const w = env.store.touch(table, key!, spec);
    const added = w.add(time, value, id);
    if (added === 'late') {
      env.late.inc();
      return undefined;
    }
    if (added === 'overflow') env.overflow.inc();
    if (w.maxTime <= w.mutedUntil) return undefined;
    const measure = w.measure;
    if (!(measure > parts.scaledThreshold)) return undefined;
    const keys = parts.keys(data);
    const observed = parts.observed(measure);
    const hit: Hit = {
      keys,
      value: observed,
      threshold: this.threshold,
      windowStart: w.maxTime - spec.windowMs,
      windowEnd: w.maxTime,
      transactionIds: w.ids(env.maxIds),
      message: `${this.id}: ${parts.message(keys, observed, this.windowText)}`,
    };
    w.clear();
    w.mutedUntil = w.maxTime + spec.windowMs;
    parts.onFire?.(hit, env);
    return hit;
  }
}

/** "userId=u1" or "source=516, target=482". */
export function describeKeys(keys: Record<string, string>): string {
  return Object.entries(keys).map(([k, v]) => `${k}=${v}`).join(', ');
}

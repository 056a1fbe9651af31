/**
 * The aggregate processor's configuration rules that the schema cannot express: window arithmetic (a hopping
 * window must be a whole number of advances, so it is a whole number of panes), which metrics need a field, and
 * output keys that would collide. Each message says what to write instead.
 */
import { toMillis } from '../../../agent/index.ts';
import type { MetricConfig } from './accumulators.ts';

export interface AggregateConfig {
  groupBy: string[];
  window: { type: 'tumbling' | 'hopping'; size: string | number; advance?: string | number };
  timeField?: string;
  allowedLateness: string | number;
  metrics: Record<string, MetricConfig>;
  emitTo: string[];
  maxGroups: number;
  stateDir?: string;
  scale: number;
}

export interface Timing {
  size: number;
  advance: number;
  lateness: number;
}

/** The output keys the processor writes itself. */
export const RESERVED = ['windowStart', 'windowEnd', 'partial'];

const UNITS: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/** A duration in the largest unit that divides it: 3600000 → "1h", 90000 → "90s". */
export function formatDuration(ms: number): string {
  const [unit, f] = UNITS.find(([, f]) => ms % f === 0 && ms >= f) ?? ['ms', 1];
  return `${ms / f}${unit}`;
}

function millis(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return toMillis(value, 's');
  } catch {
    return Number.NaN;
  }
}

/** The divisors of size nearest to advance (below and above), in the unit the advance was written in. */
function nearestDivisors(size: number, advance: number): number[] {
  const step = UNITS.find(([, f]) => advance % f === 0 && size % f === 0)![1];
  const found: number[] = [];
  const limit = 1_000_000 * step; // a suggestion is not worth more than a moment of validation
  for (let d = Math.floor(advance / step) * step; d >= step && advance - d < limit; d -= step) {
    if (size % d === 0) {
      found.push(d);
      break;
    }
  }
  for (let d = Math.ceil(advance / step) * step; d < size && d - advance < limit; d += step) {
    if (size % d === 0) {
      found.push(d);
      break;
    }
  }
  return found;
}

export function lintAggregate(config: Readonly<AggregateConfig>): { key?: string; message: string }[] {
  const problems: { key?: string; message: string }[] = [];
  const w = config.window ?? ({} as AggregateConfig['window']);
  const size = millis(w.size);
  const advance = millis(w.advance);
  if (size === undefined || !(size > 0) || !Number.isInteger(size)) {
    problems.push({ key: 'window', message: 'window.size must be a whole number of milliseconds above 0, such as "60s" or "1h".' });
  } else if (w.type === 'tumbling' && advance !== undefined) {
    problems.push({ key: 'window', message: 'window.advance applies to hopping windows only: remove it, or set window.type: hopping.' });
  } else if (w.type === 'hopping') {
    if (advance === undefined) {
      problems.push({ key: 'window', message: `hopping windows need window.advance, the step between window starts (such as "${formatDuration(Math.max(1, size / 10))}").` });
    } else if (!(advance > 0) || !Number.isInteger(advance)) {
      problems.push({ key: 'window', message: 'window.advance must be a whole number of milliseconds above 0, such as "1m".' });
    } else if (advance >= size) {
      problems.push({ key: 'window', message: `window.advance (${formatDuration(advance)}) must be less than window.size (${formatDuration(size)}); for windows that do not overlap use type: tumbling.` });
    } else if (size % advance !== 0) {
      const near = nearestDivisors(size, advance).map((d) => `"${formatDuration(d)}"`);
      const bigger = Math.ceil(size / advance) * advance;
      problems.push({
        key: 'window',
        message: `window.size (${formatDuration(size)}) must be a whole multiple of window.advance (${formatDuration(advance)}): use an advance that divides the size${near.length ? `, such as ${near.join(' or ')}` : ''}, or a size of "${formatDuration(bigger)}".`,
      });
    }
  }
  const groupBy = config.groupBy ?? [];
  for (const [name, m] of Object.entries(config.metrics ?? {})) {
    if (m.op === 'count' && m.field !== undefined) {
      problems.push({ key: 'metrics', message: `metrics.${name}: count counts events and takes no field; remove field (every other metric's field must be numeric for an event to be counted).` });
    } else if (m.op !== 'count' && m.field === undefined) {
      problems.push({ key: 'metrics', message: `metrics.${name}: ${m.op} needs field, the dotted path of a numeric field such as "amount".` });
    }
    if (RESERVED.includes(name) || groupBy.includes(name)) {
      problems.push({ key: 'metrics', message: `metrics.${name}: the name is taken by ${RESERVED.includes(name) ? 'the window output' : 'a groupBy field'} in the emitted event; choose another name.` });
    }
  }
  for (const g of groupBy) {
    if (RESERVED.includes(g)) problems.push({ key: 'groupBy', message: `groupBy field "${g}" collides with the "${g}" key the processor writes; group by another field.` });
  }
  return problems;
}

/** Window and lateness in milliseconds, from a config that passed lint. */
export function timingOf(config: Readonly<AggregateConfig>): Timing {
  const size = toMillis(config.window.size, 's');
  return { size, advance: config.window.type === 'hopping' ? toMillis(config.window.advance!, 's') : size, lateness: toMillis(config.allowedLateness, 's') };
}

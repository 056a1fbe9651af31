/**
 * The result event of one (window, group): window bounds as ISO-8601 UTC, the group-by values under their
 * configured names, then the metrics. The text is written by hand so a total beyond 15 significant digits (more
 * than a double holds) is still exact in what a sink writes; the data carries the same values as numbers.
 */
import { Event } from '../../../agent/index.ts';
import type { MetricPlan } from './accumulators.ts';
import type { Closed } from './windows.ts';

export function resultEvent(c: Closed, groupBy: readonly string[], plan: MetricPlan): Event {
  const start = new Date(c.start).toISOString();
  const end = new Date(c.end).toISOString();
  let text = `{"windowStart":"${start}","windowEnd":"${end}"`;
  const data: Record<string, unknown> = { windowStart: start, windowEnd: end };
  for (let i = 0; i < groupBy.length; i++) {
    const name = groupBy[i]!;
    const value = c.acc.values[i] ?? null;
    text += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
    data[name] = value;
  }
  for (const [name, num] of plan.results(c.acc)) {
    text += `,${JSON.stringify(name)}:${num}`;
    data[name] = Number(num);
  }
  if (c.partial) {
    text += ',"partial":true';
    data.partial = true;
  }
  return new Event({}, `${text}}`, data);
}

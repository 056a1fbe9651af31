/**
 * Channel selectors, as Flume's: replicating sends every event to every channel (some may be optional, i.e.
 * best-effort); multiplexing picks channels by a header value, with a default for unmapped values.
 */
import type { Event } from '../event.ts';

export interface SelectorConfig {
  type: 'replicating' | 'multiplexing';
  optional?: string[] | Record<string, string[]>;
  header?: string;
  mapping?: Record<string, string[]>;
  default?: string[];
}

export interface Routed {
  /** Events per required channel, in batch order. */
  required: Map<string, Event[]>;
  /** Events per optional channel (failures are logged, not retried). */
  optional: Map<string, Event[]>;
  /** Events no channel takes (a multiplexing value with no mapping and no default): dead-lettered, never silent. */
  unrouted?: Event[];
}

export type Selector = (events: readonly Event[]) => Routed;

export function createSelector(channels: readonly string[], config: SelectorConfig | undefined): Selector {
  if (!config || config.type === 'replicating') {
    const optional = new Set(Array.isArray(config?.optional) ? config!.optional : []);
    const req = channels.filter((c) => !optional.has(c));
    return (events) => ({
      required: new Map(req.map((c) => [c, events as Event[]])),
      optional: new Map([...optional].map((c) => [c, events as Event[]])),
    });
  }
  const header = config.header ?? 'flume.selector.header';
  // Maps, not plain objects: a header value such as "constructor" must not find Object.prototype's members.
  const mapping = new Map(Object.entries(config.mapping ?? {}));
  const optionalMap = new Map(Object.entries(!Array.isArray(config.optional) && config.optional ? config.optional : {}));
  const defaults = config.default ?? [];
  return (events) => {
    const required = new Map<string, Event[]>();
    const optional = new Map<string, Event[]>();
    const unrouted: Event[] = [];
    const add = (m: Map<string, Event[]>, c: string, e: Event) => {
      const list = m.get(c);
      if (list) list.push(e);
      else m.set(c, [e]);
    };
    for (const e of events) {
      const v = e.headers[header];
      const req = (v !== undefined && mapping.get(v)) || defaults;
      for (const c of req) add(required, c, e);
      const opt = v !== undefined ? optionalMap.get(v) : undefined;
      if (opt) for (const c of opt) if (!req.includes(c)) add(optional, c, e);
      if (req.length === 0 && !opt?.length) unrouted.push(e);
    }
    return { required, optional, unrouted };
  };
}

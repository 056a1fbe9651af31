/**
 * Expectations of `fintrans-agent test`: an expected event is a partial JSON body (only the keys it names are
 * compared, recursively; arrays compare element by element and by length) plus optional `$headers`. Every check
 * returns the reasons it failed, each naming the event and the JSON path, so the diff says what to fix.
 */
import type { Event } from '../event.ts';

export interface ChannelExpectation {
  /** Exactly these events, in this order. */
  events?: unknown[];
  /** At least these events, in any order (each matched by a different event). */
  contains?: unknown[];
  /** No event matches any of these. */
  absent?: unknown[];
  /** Exactly this many events. */
  count?: number;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** The first difference between an actual value and a partial expected one, or undefined when it matches. */
export function difference(actual: unknown, expected: unknown, path = ''): string | undefined {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) return `${path || '.'}: expected an array, got ${show(actual)}`;
      if (actual.length !== expected.length) return `${path || '.'}: expected ${expected.length} elements, got ${actual.length} (${show(actual)})`;
      for (let i = 0; i < expected.length; i++) {
        const d = difference(actual[i], expected[i], `${path}[${i}]`);
        if (d) return d;
      }
      return undefined;
    }
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path || '.'}: expected an object, got ${show(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      const d = difference((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(actual, expected) || actual === expected ? undefined : `${path || '.'}: expected ${show(expected)}, got ${show(actual)}`;
}

/** The body of an event as the test sees it: parsed JSON, or the text when it is not JSON. */
export function bodyOf(event: Event): unknown {
  try {
    return event.data;
  } catch {
    return event.text;
  }
}

function eventDifference(event: Event, expected: unknown): string | undefined {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected) && '$headers' in expected) {
    const { $headers, ...body } = expected as Record<string, unknown>;
    return difference(event.headers, $headers, '$headers') ?? difference(bodyOf(event), body);
  }
  return difference(bodyOf(event), expected);
}

/** Checks one channel's collected events against its expectation; returns every failure. */
export function check(actual: readonly Event[], expectation: ChannelExpectation | unknown[]): string[] {
  const e: ChannelExpectation = Array.isArray(expectation) ? { events: expectation } : expectation;
  const failures: string[] = [];
  if (e.count !== undefined && actual.length !== e.count) failures.push(`expected ${e.count} events, got ${actual.length}`);
  if (e.events) {
    if (actual.length !== e.events.length) failures.push(`expected exactly ${e.events.length} events, got ${actual.length}`);
    e.events.forEach((want, i) => {
      if (i >= actual.length) return failures.push(`event ${i}: missing; expected one matching ${show(want)}`);
      const d = eventDifference(actual[i]!, want);
      if (d) failures.push(`event ${i}: ${d}`);
    });
  }
  if (e.contains) {
    const used = new Set<number>();
    e.contains.forEach((want, i) => {
      const at = actual.findIndex((event, j) => !used.has(j) && eventDifference(event, want) === undefined);
      if (at >= 0) used.add(at);
      else failures.push(`contains[${i}]: no event matches ${show(want)}${closest(actual, want, used)}`);
    });
  }
  if (e.absent) {
    e.absent.forEach((unwanted, i) => {
      const at = actual.findIndex((event) => eventDifference(event, unwanted) === undefined);
      if (at >= 0) failures.push(`absent[${i}]: event ${at} matches ${show(unwanted)}: ${show(bodyOf(actual[at]!))}`);
    });
  }
  return failures;
}

/** For a failed `contains`, why the nearest candidate did not match (the diff users act on). */
function closest(actual: readonly Event[], want: unknown, used: Set<number>): string {
  const candidates = actual.map((event, j) => ({ j, d: used.has(j) ? undefined : eventDifference(event, want) })).filter((c) => c.d);
  if (candidates.length === 0) return actual.length === 0 ? ' (the channel got no events)' : '';
  return `; e.g. event ${candidates[0]!.j} differs at ${candidates[0]!.d}`;
}

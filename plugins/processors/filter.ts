/**
 * Keeps or drops events by one JSON field or one header: the general form of Flume's regex_filter interceptor,
 * which could only look at the whole body. Dropping here is intentional (a routing decision, not a failure), so
 * dropped events are counted, not dead-lettered.
 */
import { AgentError, ErrorCodes, type Event, definePlugin } from '../../agent/index.ts';

export interface FilterConfig {
  field?: string;
  header?: string;
  regex?: string;
  equals?: string | number | boolean;
  exists?: boolean;
  mode: 'keep' | 'drop';
}

const NOT_JSON = Symbol('not-json');

function invalid(message: string): AgentError {
  return new AgentError(ErrorCodes.CONFIG_INVALID, `filter: ${message}`);
}

function isText(value: unknown): value is string | number | boolean {
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/** The test a looked-up value must pass; `undefined` means absent. */
function valueTest(config: FilterConfig): (value: unknown) => boolean {
  const set = ['regex', 'equals', 'exists'].filter((k) => config[k as keyof FilterConfig] !== undefined);
  if (set.length !== 1) throw invalid(`set exactly one of regex, equals or exists (found ${set.length ? set.join(', ') : 'none'}).`);
  if (config.exists !== undefined) {
    const exists = config.exists;
    return (value) => (value !== undefined) === exists;
  }
  if (config.equals !== undefined) {
    const wanted = String(config.equals);
    // Compared as text, so `equals: 516` matches both 516 and "516": YAML and JSON disagree on quoting too often.
    return (value) => value === wanted || (isText(value) && String(value) === wanted);
  }
  let re: RegExp;
  try {
    re = new RegExp(config.regex!);
  } catch (error) {
    throw invalid(`regex ${JSON.stringify(config.regex)} is not a valid JavaScript regular expression: ${(error as Error).message}.`);
  }
  return (value) => isText(value) && re.test(typeof value === 'string' ? value : String(value));
}

/** Reads the configured field or header; NOT_JSON when a field is wanted from a body that is not JSON. */
function lookup(config: FilterConfig): (event: Event) => unknown {
  if ((config.field === undefined) === (config.header === undefined)) throw invalid('set exactly one of field or header.');
  if (config.header !== undefined) {
    const header = config.header;
    return (event) => event.headers[header];
  }
  const parts = config.field!.split('.');
  return (event) => {
    let value: any;
    try {
      value = event.data;
    } catch {
      return NOT_JSON;
    }
    for (let i = 0; i < parts.length; i++) {
      if (value === null || typeof value !== 'object') return undefined;
      value = value[parts[i]!];
    }
    return value;
  };
}

export default definePlugin<'processor', FilterConfig>({
  kind: 'processor',
  type: 'filter',
  description: 'Keeps (or drops) events whose JSON field or header matches a regex, equals a value, or exists.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      field: {
        description:
          'Dotted path into the JSON body, such as "amount" or "payer.country". An event whose body is not JSON ' +
          'never matches: it is dropped in keep mode and kept in drop mode. Exclusive with header.',
        type: 'string',
        minLength: 1,
      },
      header: {
        description: 'Header name to test instead of a body field. Exclusive with field.',
        type: 'string',
        minLength: 1,
      },
      regex: {
        description:
          'JavaScript regular expression the value must match (unanchored: use ^ and $ for a whole-value match). ' +
          'Numbers and booleans are tested as text; objects, arrays, null and absent values never match.',
        type: 'string',
        format: 'regex',
      },
      equals: {
        description: 'Value the field or header must equal, compared as text (516 matches "516").',
        type: ['string', 'number', 'boolean'],
      },
      exists: {
        description: 'true: the field or header must be present (a JSON null counts as present); false: it must be absent.',
        type: 'boolean',
      },
      mode: {
        description: '"keep" passes only matching events; "drop" removes matching events and passes the rest.',
        enum: ['keep', 'drop'],
        default: 'keep',
      },
    },
    required: [],
    allOf: [
      { oneOf: [{ required: ['field'] }, { required: ['header'] }] },
      { oneOf: [{ required: ['regex'] }, { required: ['equals'] }, { required: ['exists'] }] },
    ],
  },
  create(config, ctx) {
    const get = lookup(config);
    const test = valueTest(config);
    const keepMatches = config.mode === 'keep';
    const filtered = ctx.metrics.counter('events_filtered_total', 'Events dropped by the filter.');
    return {
      process(events) {
        // Copy only from the first drop on: the common all-pass batch costs no allocation.
        let out: Event[] | undefined;
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          const value = get(event);
          const matched = value !== NOT_JSON && test(value);
          if (matched === keepMatches) out?.push(event);
          else out ??= events.slice(0, i);
        }
        if (out === undefined) return events;
        filtered.inc(events.length - out.length);
        return out;
      },
    };
  },
});

/**
 * Turns events into `_bulk` NDJSON items. A JSON event is sent as the text it arrived as (never re-serialized, and
 * not even parsed unless `idField`, `timestampField` or `headers` need a field): Elasticsearch validates the
 * document and answers per item. Only the action line is built here, with every user value JSON-escaped.
 */
import type { Event } from '../../../agent/index.ts';
import { eventTime, indexNameProblem, type IndexName, type TimestampUnit } from './index-name.ts';

export type OpType = 'index' | 'create';

export interface BulkOptions {
  index: IndexName;
  opType: OpType;
  /** Field whose value becomes the document `_id`. */
  idField?: string;
  /** json: the body is the document; text: the document is `{ "@timestamp", "message", ...headers }`. */
  format: 'json' | 'text';
  /** Headers copied into each document as fields (a field the document already has wins). */
  headers: readonly string[];
  timestampField?: string;
  timestampUnit: TimestampUnit;
  /** json format: field that receives the event time (ISO-8601) when the document lacks it, e.g. "@timestamp". */
  addTimestamp?: string;
  /** Called when `timestampField` was missing or not a time and the header or the clock was used instead. */
  onTimestampFallback?: () => void;
}

/** One item of a bulk request: its two NDJSON lines, each ending with a newline. */
export interface BulkItem {
  event: Event;
  index: string;
  id: string | undefined;
  lines: string;
}

export interface Rejection {
  event: Event;
  reason: string;
  detail: string;
}

/** Elasticsearch refuses a whole bulk request (400) for an `_id` longer than this, so such events are rejected here. */
const MAX_ID_BYTES = 512;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds the item for one event, or says why the event can never be indexed. */
export function buildItem(event: Event, o: BulkOptions): BulkItem | Rejection {
  let time: number | undefined;
  const timeMs = () => (time ??= eventTime(event, o.timestampField, o.timestampUnit, o.onTimestampFallback));
  const index = o.index(event, timeMs);
  if (index === undefined) return { event, reason: 'invalid-index', detail: 'the index name needs a header or field this event lacks' };
  const problem = indexNameProblem(index);
  if (problem) return { event, reason: 'invalid-index', detail: `index "${index}" ${problem}` };

  let id: string | undefined;
  if (o.idField !== undefined) {
    const v = event.field(o.idField);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { event, reason: 'missing-id', detail: `field "${o.idField}" is missing or not a string or number` };
    id = String(v);
    if (id === '') return { event, reason: 'missing-id', detail: `field "${o.idField}" is empty` };
    if (Buffer.byteLength(id) > MAX_ID_BYTES) return { event, reason: 'invalid-id', detail: `field "${o.idField}" is longer than ${MAX_ID_BYTES} bytes` };
  }

  let source: string;
  if (o.format === 'text') {
    const doc: Record<string, unknown> = { '@timestamp': new Date(timeMs()).toISOString(), message: event.text };
    for (const h of o.headers) if (event.headers[h] !== undefined && !(h in doc)) doc[h] = event.headers[h];
    source = JSON.stringify(doc);
  } else {
    source = event.text;
    // NDJSON ends a document at a newline: a pretty-printed body is serialized once, on one line.
    if (source.includes('\n') || o.headers.length > 0 || o.addTimestamp !== undefined) {
      let data: unknown;
      try {
        data = event.data;
      } catch (error) {
        return { event, reason: 'not-json', detail: (error as Error).message };
      }
      if (!isObject(data)) return { event, reason: 'not-json-object', detail: 'an Elasticsearch document must be a JSON object' };
      if (source.includes('\n')) source = JSON.stringify(data);
      const extra: [string, string][] = [];
      if (o.addTimestamp !== undefined && !Object.hasOwn(data, o.addTimestamp)) extra.push([o.addTimestamp, new Date(timeMs()).toISOString()]);
      for (const h of o.headers) if (event.headers[h] !== undefined) extra.push([h, event.headers[h]!]);
      source = withFields(source, data, extra);
    }
  }
  const action = id === undefined ? `{"${o.opType}":{"_index":${JSON.stringify(index)}}}` : `{"${o.opType}":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}`;
  return { event, index, id, lines: `${action}\n${source}\n` };
}

/** Splices fields after the opening brace of the JSON object text (those the document already has are skipped). */
function withFields(text: string, data: Record<string, unknown>, extra: readonly [string, string][]): string {
  let fields = '';
  const seen = new Set<string>();
  for (const [k, v] of extra) {
    if (Object.hasOwn(data, k) || seen.has(k)) continue;
    seen.add(k);
    fields += `${fields ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  if (!fields) return text;
  const open = text.indexOf('{');
  const empty = Object.keys(data).length === 0;
  return `{${fields}${empty ? '}' : `,${text.slice(open + 1)}`}`;
}

export function isRejection(x: BulkItem | Rejection): x is Rejection {
  return 'reason' in x;
}

/** The request body for these items. */
export function bulkBody(items: readonly BulkItem[]): string {
  let body = '';
  for (const item of items) body += item.lines;
  return body;
}

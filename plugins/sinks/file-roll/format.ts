/**
 * How file_roll turns a batch into bytes: one line per event, the whole batch as one string so it is appended
 * with a single write. Every format guarantees that one event is exactly one line, because consumers of these
 * files (line readers, `wc -l` reconciliations) count on it.
 */
import type { Event, WriteResult } from '../../../agent/index.ts';

export type FileFormat = 'json' | 'text' | 'json-with-headers';

export const FORMATS: readonly FileFormat[] = ['json', 'text', 'json-with-headers'];

export type Rejection = NonNullable<WriteResult['rejected']>[number];

export interface EncodedBatch {
  /** The lines of the accepted events, each ending with '\n'; '' when there are none. */
  text: string;
  /** Events that cannot be written in this format; they go to dead letters instead of blocking the batch. */
  rejected: Rejection[];
}

/**
 * The body as one line of JSON, or a thrown error when it is not JSON. A body a source already parsed costs
 * nothing here; only bodies that never were parsed (say, from a plain-text source) are parsed once to check them,
 * since a `.jsonl` file with a non-JSON line breaks every reader of it.
 */
function jsonBody(event: Event): string {
  const data: unknown = event.data;
  const text = event.text;
  // JSON strings cannot hold a raw newline, so one here is whitespace between tokens: compacting removes it.
  return text.indexOf('\n') < 0 ? text : JSON.stringify(data);
}

function line(event: Event, format: FileFormat): string {
  switch (format) {
    case 'text':
      // Written as is, like Flume's TEXT serializer: a body with its own newlines spans several lines.
      return event.text;
    case 'json':
      return jsonBody(event);
    case 'json-with-headers': {
      let body: string;
      try {
        body = jsonBody(event);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        body = JSON.stringify(event.text);
      }
      return `{"headers":${JSON.stringify(event.headers)},"body":${body}}`;
    }
  }
}

export function encodeBatch(events: readonly Event[], format: FileFormat): EncodedBatch {
  const lines: string[] = [];
  const rejected: Rejection[] = [];
  for (const event of events) {
    try {
      lines.push(line(event, format));
    } catch (error) {
      // Retrying cannot fix a body, so it leaves the batch rather than blocking the rest forever.
      const notJson = error instanceof SyntaxError;
      rejected.push({
        event,
        reason: notJson ? 'not_json' : 'unserializable',
        detail: notJson
          ? `file_roll format "${format}" writes JSON lines and this body is not JSON: ${error.message}. Use format "text" or "json-with-headers" for non-JSON bodies.`
          : `The body could not be serialized: ${error instanceof Error ? error.message : String(error)}.`,
      });
    }
  }
  return { text: lines.length === 0 ? '' : lines.join('\n') + '\n', rejected };
}

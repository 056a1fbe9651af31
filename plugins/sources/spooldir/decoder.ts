/**
 * Turns one line's bytes into an event, or into a dead letter with a reason. This is the per-line hot path, so it
 * does the minimum: one string decode, one JSON.parse (whose result travels with the event so nothing downstream
 * parses again), one headers object.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { Event, errorMessage, type Headers } from '../../../agent/index.ts';

export type LineFormat = 'json' | 'text';

export type DeadLetterFn = (events: Event[], reason: string, detail?: string) => void;

export interface LineDecoderOptions {
  format: LineFormat;
  /** A WHATWG encoding label (utf-8, latin1, ascii, ...). */
  charset: string;
  maxLineLength: number;
  deadLetter: DeadLetterFn;
}

/** Whether a TextDecoder label names UTF-8 (the fast path). Throws a RangeError for an unknown label. */
export function isUtf8Charset(charset: string): boolean {
  return new TextDecoder(charset).encoding === 'utf-8';
}

/** Builds the headers of each event of one file; a fresh object per event, since processors may mutate them. */
export function headerFactory(entries: readonly (readonly [string, string])[]): () => Headers {
  if (entries.length === 0) return () => ({});
  if (entries.length === 1) {
    const [[k, v]] = entries as [readonly [string, string]];
    return () => ({ [k]: v });
  }
  const template = Object.fromEntries(entries) as Headers;
  return () => ({ ...template });
}

export class LineDecoder {
  /** Headers of the file being read. */
  headers: () => Headers = () => ({});
  /** Ingest time stamped on events; set once per chunk rather than per line. */
  now = Date.now();
  /** Where bad lines are said to come from, in dead-letter details. */
  source = '';
  private readonly json: boolean;
  private readonly utf8: boolean;
  private readonly decoder: TextDecoder;
  private readonly deadLetter: DeadLetterFn;
  private readonly max: number;

  constructor(options: LineDecoderOptions) {
    this.json = options.format === 'json';
    this.utf8 = isUtf8Charset(options.charset);
    // ignoreBOM: a BOM is only meaningful at the start of a file, which the splitter already handled.
    this.decoder = new TextDecoder(options.charset, { fatal: true, ignoreBOM: true });
    this.deadLetter = options.deadLetter;
    this.max = options.maxLineLength;
  }

  /** The event for a good line, or undefined when it went to dead letters. `next`: file offset after the line. */
  decode(buf: Buffer, start: number, end: number, next: number): Event | undefined {
    let text: string;
    if (this.utf8) {
      // Decoding leniently and checking for U+FFFD is several times cheaper than a fatal TextDecoder per line;
      // the strict check only runs for the rare line that really contains a replacement character.
      text = buf.toString('utf8', start, end);
      if (text.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(start, end))) {
        this.reject(Event.fromBytes(Buffer.from(buf.subarray(start, end)), this.headers(), this.now), 'invalid-encoding', 'not valid UTF-8', next);
        return undefined;
      }
    } else {
      try {
        text = this.decoder.decode(buf.subarray(start, end));
      } catch (error) {
        this.reject(Event.fromBytes(Buffer.from(buf.subarray(start, end)), this.headers(), this.now), 'invalid-encoding', errorMessage(error), next);
        return undefined;
      }
    }
    if (!this.json) return Event.fromText(text, this.headers(), this.now);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.reject(Event.fromText(text, this.headers(), this.now), 'malformed-json', errorMessage(error), next);
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      this.reject(Event.fromText(text, this.headers(), this.now), 'not-an-object', `the line is ${kind}, not a JSON object`, next);
      return undefined;
    }
    return new Event(this.headers(), text, value, this.now);
  }

  /** Dead-letters a line longer than maxLineLength; the body is its first bytes only. */
  tooLong(head: Buffer, length: number, next: number): void {
    this.reject(Event.fromBytes(head, this.headers(), this.now), 'line-too-long', `${length} bytes, more than maxLineLength ${this.max}`, next);
  }

  private reject(event: Event, reason: string, detail: string, next: number): void {
    this.deadLetter([event], reason, this.source ? `${detail} (${this.source}, line ending at byte ${next})` : detail);
  }
}

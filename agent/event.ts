/**
 * The unit that flows through a pipeline: string headers plus a body.
 *
 * The body is kept in whichever form it arrived (text line, bytes, or parsed JSON) and converted at most once:
 * a JSON line read by a source is parsed once (to validate it) and the original text is kept, so a sink that
 * writes text never re-serializes an unmodified event. A processor that changes the data calls `setData`,
 * which drops the cached text; the first sink that needs text serializes it once and caches it again.
 */
export type Headers = Record<string, string>;

const NOT_PARSED = Symbol('not-parsed');

export class Event {
  headers: Headers;
  /** Epoch milliseconds when the event entered the agent; drives the end-to-end age histogram. */
  ingestTime: number;
  private raw: string | Uint8Array | undefined;
  private parsed: unknown = NOT_PARSED;

  constructor(headers: Headers, raw: string | Uint8Array | undefined, data: unknown = NOT_PARSED, ingestTime = Date.now()) {
    this.headers = headers;
    this.raw = raw;
    this.parsed = data;
    this.ingestTime = ingestTime;
  }

  /** An event whose body is text (for example one line of a file). */
  static fromText(text: string, headers: Headers = {}, ingestTime?: number): Event {
    return new Event(headers, text, NOT_PARSED, ingestTime);
  }

  /** An event whose body is a structured value; it is serialized to JSON only when a sink needs text. */
  static fromData(data: unknown, headers: Headers = {}, ingestTime?: number): Event {
    return new Event(headers, undefined, data, ingestTime);
  }

  /** An event whose body is raw bytes. */
  static fromBytes(bytes: Uint8Array, headers: Headers = {}, ingestTime?: number): Event {
    return new Event(headers, bytes, NOT_PARSED, ingestTime);
  }

  /** True when the structured value is known without parsing. */
  get hasData(): boolean {
    return this.parsed !== NOT_PARSED;
  }

  /** The body parsed as JSON (parsed once, then cached). Throws a SyntaxError for a body that is not JSON. */
  get data(): any {
    if (this.parsed === NOT_PARSED) {
      const raw = this.raw;
      this.parsed = JSON.parse(typeof raw === 'string' ? raw : raw === undefined ? 'null' : Buffer.from(raw).toString('utf8'));
    }
    return this.parsed;
  }

  /** Replaces the structured value; the text form is rebuilt lazily. */
  setData(data: unknown): void {
    this.parsed = data;
    this.raw = undefined;
  }

  /** The body as text: the original text when unchanged, else JSON of the data, serialized once. */
  get text(): string {
    const raw = this.raw;
    if (typeof raw === 'string') return raw;
    if (raw !== undefined) {
      const s = Buffer.from(raw).toString('utf8');
      this.raw = s;
      return s;
    }
    const s = this.parsed === NOT_PARSED ? '' : JSON.stringify(this.parsed) ?? 'null';
    this.raw = s;
    return s;
  }

  /** The body as bytes, for binary sinks. */
  get bytes(): Uint8Array {
    const raw = this.raw;
    if (raw instanceof Uint8Array) return raw;
    return Buffer.from(this.text, 'utf8');
  }

  /** Approximate size in bytes of the body (UTF-16 length for text: cheap, and an upper bound for ASCII). */
  get size(): number {
    const raw = this.raw;
    if (raw === undefined) return this.text.length;
    return typeof raw === 'string' ? raw.length : raw.byteLength;
  }

  /** A copy with its own headers; the body is shared until one side calls setData. */
  clone(): Event {
    return new Event({ ...this.headers }, this.raw, this.parsed, this.ingestTime);
  }

  /** Reads a top-level or dotted field of the data, or undefined when the body is not a JSON object. */
  field(path: string): unknown {
    let value: any;
    try {
      value = this.data;
    } catch {
      return undefined;
    }
    if (path.indexOf('.') < 0) return value == null ? undefined : value[path];
    for (const part of path.split('.')) {
      if (value == null || typeof value !== 'object') return undefined;
      value = value[part];
    }
    return value;
  }
}

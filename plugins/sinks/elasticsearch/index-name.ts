/**
 * Index names with date escapes (`fintrans-%Y.%m.%d`) plus `%{header}` and `%[field]`, compiled once. The date is
 * the event's own time: `timestampField` (epoch seconds or milliseconds, or an ISO-8601 string), else the
 * `timestamp` header (epoch milliseconds, as the timestamp processor sets it), else the time of the write.
 */
import type { Event } from '../../../agent/index.ts';
import { compileTemplate } from '../../shared/template.ts';

/** Date escapes as in Flume's HDFS sink (a subset of strftime). */
const DATE_ESCAPES = 'YymdHMSjs';
const TOKEN = /%\{[^}]+\}|%\[[^\]]+\]|%./g;

export type IndexName = ((event: Event, timeMs: () => number) => string | undefined) & {
  /** The name when it depends on nothing. */
  readonly constant: string | undefined;
  /** Whether a date escape is used (the caller then needs the event time). */
  readonly usesTime: boolean;
  /** The literal text before the first escape, for the default template pattern (`fintrans-` → `fintrans-*`). */
  readonly prefix: string;
};

type Part = string | ((event: Event, date: DateParts, timeMs: number) => string | undefined);
interface DateParts { Y: string; m: string; d: string; H: string; M: string; S: string; j: string }

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Calendar fields of `ms` in a time zone. The last result is cached per `stepMs`, the coarsest interval within which
 * the escapes used cannot change, so a batch of one day costs one conversion with `%Y.%m.%d`.
 */
function dateFormatter(timeZone: string, stepMs: number): (ms: number) => DateParts {
  const fmt = timeZone === 'UTC' ? undefined : new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  let lastStep = NaN;
  let last: DateParts | undefined;
  return (ms) => {
    const step = Math.floor(ms / stepMs);
    if (step === lastStep && last) return last;
    let y: number, mo: number, d: number, h: number, mi: number, s: number;
    if (!fmt) {
      const t = new Date(ms);
      [y, mo, d, h, mi, s] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()];
    } else {
      const p: Record<string, number> = {};
      for (const part of fmt.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
      [y, mo, d, h, mi, s] = [p.year!, p.month!, p.day!, p.hour!, p.minute!, p.second!];
    }
    const dayOfYear = Math.round((Date.UTC(y, mo - 1, d) - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
    last = { Y: String(y), m: pad(mo), d: pad(d), H: pad(h), M: pad(mi), S: pad(s), j: pad(dayOfYear, 3) };
    lastStep = step;
    return last;
  };
}

/** Throws on an unknown escape such as `%q`, naming the ones supported. */
export function compileIndexName(source: string, timeZone = 'UTC'): IndexName {
  const parts: Part[] = [];
  let usesTime = false;
  let prefix: string | undefined;
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    if (m.index > last) parts.push(source.slice(last, m.index));
    const token = m[0];
    if (token === '%%') parts.push('%');
    else if (token.startsWith('%{') || token.startsWith('%[')) {
      const t = compileTemplate(token);
      parts.push((e) => t(e));
    } else {
      const c = token[1]!;
      if (!DATE_ESCAPES.includes(c)) throw new Error(`unknown escape "${token}" in index "${source}": use %Y %y %m %d %H %M %S %j %s, %% for a literal %, %{header} or %[field]`);
      usesTime = true;
      if (c === 's') parts.push((_e, _d, ms) => String(Math.floor(ms / 1000)));
      else if (c === 'y') parts.push((_e, d) => d.Y.slice(-2));
      else parts.push((_e, d) => d[c as keyof DateParts]);
    }
    if (prefix === undefined && token !== '%%') prefix = parts.filter((p) => typeof p === 'string').join('');
    last = m.index + token.length;
  }
  if (last < source.length) parts.push(source.slice(last));
  const constant = parts.every((p) => typeof p === 'string') ? parts.join('') : undefined;
  // Every zone's offset is a multiple of 15 minutes, so outside UTC hours and days are cached per 15 minutes.
  const finest = usesTime ? Math.min(...[...source.matchAll(/%([SMH])/g)].map((m) => ({ S: 1, M: 60, H: 3600 })[m[1] as 'S' | 'M' | 'H']), 86_400) : 1;
  const date = dateFormatter(timeZone, (timeZone === 'UTC' ? finest : Math.min(finest, 900)) * 1000);
  const fn = ((event: Event, timeMs: () => number) => {
    if (constant !== undefined) return constant;
    const ms = usesTime ? timeMs() : 0;
    const d = usesTime ? date(ms) : (undefined as unknown as DateParts);
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(event, d, ms);
        if (v === undefined || v === '') return undefined;
        out += v;
      }
    }
    return out;
  }) as IndexName;
  Object.defineProperties(fn, { constant: { value: constant }, usesTime: { value: usesTime }, prefix: { value: prefix ?? constant ?? '' } });
  return fn;
}

/** Why Elasticsearch would refuse this index name, or undefined when it is valid. */
export function indexNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>| ,#:]/.test(name)) return 'must not contain \\ / * ? " < > | space , # :';
  if (/^[-_+]/.test(name)) return 'must not start with -, _ or +';
  if (name === '.' || name === '..') return 'must not be . or ..';
  if (Buffer.byteLength(name) > 255) return 'must be at most 255 bytes';
  return undefined;
}

export type TimestampUnit = 'auto' | 'seconds' | 'milliseconds';

/**
 * Epoch milliseconds of a field value, or undefined when it is not a time. Numbers (or numeric strings) are seconds
 * or milliseconds as `unit` says; with `auto`, values below 1e11 are seconds (1e11 s is the year 5138, 1e11 ms is
 * 1973). Other strings are parsed as ISO-8601 dates.
 */
export function toEpochMillis(value: unknown, unit: TimestampUnit = 'auto'): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.trim() !== '') {
    n = Number(value);
    if (Number.isNaN(n)) {
      const parsed = Date.parse(value);
      return Number.isNaN(parsed) ? undefined : parsed;
    }
  } else return undefined;
  if (!Number.isFinite(n)) return undefined;
  const seconds = unit === 'seconds' || (unit === 'auto' && Math.abs(n) < 1e11);
  return Math.floor(seconds ? n * 1000 : n);
}

/**
 * The event's time in epoch milliseconds: `field` when it holds a time, else the `timestamp` header, else now.
 * `onFallback` is called when a configured field was missing or not a time.
 */
export function eventTime(event: Event, field: string | undefined, unit: TimestampUnit, onFallback?: () => void): number {
  if (field !== undefined) {
    const t = toEpochMillis(event.field(field), unit);
    if (t !== undefined) return t;
    onFallback?.();
  }
  const header = event.headers.timestamp;
  if (header !== undefined) {
    const t = toEpochMillis(header, 'milliseconds');
    if (t !== undefined) return t;
  }
  return Date.now();
}

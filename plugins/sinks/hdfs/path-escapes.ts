/**
 * The `path` of the hdfs sink: Flume's BucketPath escapes, compiled once. Time escapes (%Y %y %m %d %H %M %S, %s
 * epoch seconds, %t epoch milliseconds, %% a literal %) format the event's time in `timeZone`, optionally rounded
 * down on the wall clock as Flume does (10-minute buckets: minute 37 → 30); `%{header}` and `%[field]` come from
 * plugins/shared/template.ts. An event whose time or value cannot be resolved gets a reason instead of a path,
 * so the sink dead-letters it rather than blocking the channel (Flume retries such a batch forever).
 */
import type { Event } from '../../../agent/index.ts';
import { compileTemplate } from '../../shared/template.ts';
import { parseEventTime, Zone } from '../../shared/event-time.ts';

export type RoundUnit = 'second' | 'minute' | 'hour';

export interface TimeOptions {
  round: boolean;
  roundValue: number;
  roundUnit: RoundUnit;
  /** IANA zone name, "UTC" or "local" (the agent machine's zone). */
  timeZone: string;
  useLocalTimeStamp: boolean;
  /** Field holding the event time (epoch s, ms, µs or ns by magnitude, or ISO-8601); else the `timestamp` header. */
  timestampField?: string;
}

export type Resolved = { dir: string; reason?: undefined } | { reason: 'missing-timestamp' | 'invalid-path'; detail: string; dir?: undefined };

type Part = string | { time: string } | { value: (e: Event) => string | undefined; token: string };

const TIME_ESCAPES = new Set(['Y', 'y', 'm', 'd', 'H', 'M', 'S', 's', 't']);
const TOKEN = /%\{[^}]+\}|%\[[^\]]+\]|%(.?)/g;
const UNIT_MS: Record<RoundUnit, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Splits `path` into literals, time escapes and value escapes. Throws with a message naming a bad escape. */
function parse(path: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of path.matchAll(TOKEN)) {
    if (m.index > last) parts.push(path.slice(last, m.index));
    last = m.index + m[0].length;
    const c = m[1];
    if (c === undefined) parts.push({ value: compileTemplate(m[0]), token: m[0] });
    else if (c === '%') parts.push('%');
    else if (TIME_ESCAPES.has(c)) parts.push({ time: c });
    else throw new Error(`unknown escape "%${c}" in path "${path}"; use %Y %y %m %d %H %M %S %s %t, %{header}, %[field] or %% for a literal %`);
  }
  if (last < path.length) parts.push(path.slice(last));
  return parts;
}

/** HDFS refuses ':' in names and "." or ".." components (DFSUtil.isValidName). */
export function invalidPathReason(path: string): string | undefined {
  if (!path.startsWith('/')) return 'is not absolute';
  for (const seg of path.split('/').slice(1)) {
    if (seg === '.' || seg === '..') return `has a "${seg}" component`;
    if (seg.includes(':')) return 'contains ":"';
    if (/[\u0000-\u001f]/.test(seg)) return 'contains a control character';
  }
  return undefined;
}

export class PathTemplate {
  readonly usesTime: boolean;
  /** The directory before the first escape: where files left by an earlier run can be found. */
  readonly staticPrefix: string;
  /** Directory levels below staticPrefix that buckets can have; undefined when a value escape may add levels. */
  readonly depth: number | undefined;
  private readonly parts: Part[];
  private readonly zone: Zone;

  constructor(path: string, private readonly opts: TimeOptions) {
    this.parts = parse(path);
    this.zone = new Zone(opts.timeZone);
    this.usesTime = this.parts.some((p) => typeof p === 'object' && 'time' in p);
    const first = this.parts.findIndex((p) => typeof p !== 'string');
    const literal = (first < 0 ? this.parts : this.parts.slice(0, first)).join('');
    const cut = first < 0 ? literal.replace(/\/+$/, '') : literal.slice(0, literal.lastIndexOf('/'));
    this.staticPrefix = cut === '' ? '/' : cut;
    const rest = path.slice(this.staticPrefix === '/' ? 1 : this.staticPrefix.length + 1).replace(/\/+$/, '');
    const dynamic = this.parts.some((p) => typeof p === 'object' && 'value' in p);
    this.depth = dynamic ? undefined : first < 0 ? 0 : rest.split('/').length;
  }

  /** The event's bucket time in epoch milliseconds, or a reason it has none. */
  eventTime(event: Event, now: number): number | string {
    if (this.opts.useLocalTimeStamp) return now;
    const field = this.opts.timestampField;
    if (field !== undefined) {
      const v = event.field(field);
      if (v !== undefined && v !== null) return parseEventTime(v, this.zone) ?? `field "${field}" is not a time: ${JSON.stringify(v).slice(0, 80)}`;
    }
    const h = event.headers.timestamp;
    if (h === undefined) return field === undefined ? 'no "timestamp" header' : `no field "${field}" and no "timestamp" header`;
    return parseEventTime(h, this.zone) ?? `header "timestamp" is not a time: ${h.slice(0, 80)}`;
  }

  resolve(event: Event, now: number): Resolved {
    let fields: number[] | undefined;
    let epoch = 0;
    if (this.usesTime) {
      const t = this.eventTime(event, now);
      if (typeof t === 'string') return { reason: 'missing-timestamp', detail: t };
      [fields, epoch] = this.localFields(t);
    }
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') out += p;
      else if ('time' in p) out += this.format(p.time, fields!, epoch);
      else {
        const v = p.value(event);
        if (v === undefined) return { reason: 'invalid-path', detail: `${p.token} has no value in the event` };
        out += v;
      }
    }
    out = out.replace(/\/{2,}/g, '/');
    if (out.length > 1) out = out.replace(/\/$/, '');
    const bad = invalidPathReason(out);
    return bad ? { reason: 'invalid-path', detail: `path "${out}" ${bad}` } : { dir: out };
  }

  /** [Y, m, d, H, M, S] on the wall clock of the zone, rounded down as configured, and the matching epoch ms. */
  private localFields(t: number): [number[], number] {
    const offset = this.zone.offset(t);
    let local = t + offset;
    const d = new Date(local);
    if (this.opts.round) {
      const rv = this.opts.roundValue;
      const ms = d.getUTCMilliseconds() + d.getUTCSeconds() * 1000;
      if (this.opts.roundUnit === 'second') local -= (d.getUTCSeconds() % rv) * 1000 + d.getUTCMilliseconds();
      else if (this.opts.roundUnit === 'minute') local -= (d.getUTCMinutes() % rv) * UNIT_MS.minute + ms;
      else local -= (d.getUTCHours() % rv) * UNIT_MS.hour + d.getUTCMinutes() * UNIT_MS.minute + ms;
      d.setTime(local);
    }
    const fields = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    return [fields, local - offset];
  }

  private format(c: string, [Y, m, d, H, M, S]: number[], epoch: number): string {
    switch (c) {
      case 'Y': return pad(Y!, 4);
      case 'y': return pad(Y! % 100);
      case 'm': return pad(m!);
      case 'd': return pad(d!);
      case 'H': return pad(H!);
      case 'M': return pad(M!);
      case 'S': return pad(S!);
      case 's': return String(Math.floor(epoch / 1000));
      default: return String(epoch);
    }
  }
}

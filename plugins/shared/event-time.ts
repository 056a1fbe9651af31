/**
 * Event times, shared by the hdfs sink (bucket paths) and the windowing processors: a time zone whose UTC offset
 * is computed with Intl once per minute of event time (formatToParts costs microseconds; a batch usually spans one minute), and a parser that
 * accepts what transaction feeds carry: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
 * magnitude, as numbers or digit strings) and ISO-8601 date-times. An ISO value without an offset is a wall-clock
 * time in the sink's zone, so the path shows the same hour as the field.
 */

export class Zone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat | undefined;
  private readonly cache = new Map<number, number>();

  /** `name`: an IANA zone ("Europe/Paris"), "UTC", or "local" for the agent machine's zone. Throws when unknown. */
  constructor(name: string) {
    const resolved = name === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name;
    // Throws RangeError for an unknown zone.
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: resolved, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    this.name = format.resolvedOptions().timeZone;
    this.format = this.name === 'UTC' || this.name === 'Etc/UTC' ? undefined : format;
  }

  /** Milliseconds to add to an epoch time to get the zone's wall-clock time read with UTC getters. */
  offset(epochMs: number): number {
    if (!this.format) return 0;
    const minute = Math.floor(epochMs / 60_000);
    let off = this.cache.get(minute);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of this.format.formatToParts(minute * 60_000)) if (part.type !== 'literal') p[part.type] = Number(part.value);
      off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - minute * 60_000;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(minute, off);
    }
    return off;
  }

  /** The epoch time of a wall-clock time in this zone (read as if it were UTC). */
  fromWallClock(wallMs: number): number {
    const first = wallMs - this.offset(wallMs);
    return wallMs - this.offset(first);
  }
}

/** Epoch milliseconds of a number whose unit is told by its magnitude (valid for years 1973 to 5138). */
export function fromEpochNumber(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  const a = Math.abs(n);
  const ms = a < 1e11 ? n * 1000 : a < 1e14 ? n : a < 1e17 ? n / 1000 : n / 1e6;
  return Math.round(ms);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

/** Epoch milliseconds of an ISO-8601 date or date-time; undefined when it is not one or not a real date. */
export function parseIso(text: string, zone: Zone): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [Y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x)));
  const frac = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (mo! < 1 || mo! > 12 || d! < 1 || h > 23 || mi > 59 || s > 60) return undefined;
  const wall = Date.UTC(Y!, mo! - 1, d!, h, mi, Math.min(s, 59), frac);
  if (new Date(wall).getUTCDate() !== d) return undefined; // 2024-02-30
  const zoneText = m[8];
  if (zoneText === undefined) return zone.fromWallClock(wall);
  if (zoneText === 'Z' || zoneText === 'z') return wall;
  const digits = zoneText.replace(':', '');
  const offsetMin = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0');
  return wall - (digits[0] === '-' ? -offsetMin : offsetMin) * 60_000;
}

/** The time of a field or header value, or undefined when it is none. */
export function parseEventTime(value: unknown, zone: Zone): number | undefined {
  if (typeof value === 'number') return fromEpochNumber(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (NUMERIC.test(text)) return fromEpochNumber(Number(text));
  return parseIso(text, zone);
}

export const UTC = new Zone('UTC');

/**
 * Point times for the `influxdb` sink. An event's time field may hold epoch seconds, milliseconds, microseconds
 * or nanoseconds (a number, or digits in a string) or an ISO-8601 date-time; the unit of an epoch number is
 * detected per value from its magnitude, so one stream may mix them. Times are carried as BigInt nanoseconds
 * (epoch milliseconds × 10^6 is beyond 2^53) and truncated to the write precision at the end.
 */

export type Precision = 's' | 'ms' | 'us' | 'ns';

export const PRECISIONS: readonly Precision[] = ['s', 'ms', 'us', 'ns'];

/** Nanoseconds per unit of each precision. */
export const NANOS_PER: Record<Precision, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/**
 * Magnitude thresholds for epoch numbers: below 10^11 is seconds (10^11 s is the year 5138), below 10^14
 * milliseconds (10^11 ms is March 1973, so millisecond times before that would be read as seconds), below 10^17
 * microseconds, above nanoseconds.
 */
const SECONDS_BELOW = 1e11;
const MILLIS_BELOW = 1e14;
const MICROS_BELOW = 1e17;

/** Splits a finite number into whole units and a fraction scaled to `scale` sub-units, without float drift. */
function split(value: number, nanosPerUnit: bigint, fractionDigits: number): bigint {
  const whole = Math.trunc(value);
  let ns = BigInt(whole) * nanosPerUnit;
  if (fractionDigits > 0) {
    const frac = value - whole;
    if (frac !== 0) {
      // A double holds about 16 significant digits: seconds keep microseconds, milliseconds keep nanoseconds.
      const scale = 10 ** fractionDigits;
      ns += (BigInt(Math.round(frac * scale)) * nanosPerUnit) / BigInt(scale);
    }
  }
  return ns;
}

/** Epoch nanoseconds of an epoch number in seconds, milliseconds, microseconds or nanoseconds. */
export function epochNumberToNanos(value: number): bigint | undefined {
  if (!Number.isFinite(value)) return undefined;
  const abs = Math.abs(value);
  if (abs < SECONDS_BELOW) return split(value, NANOS_PER.s, 6);
  if (abs < MILLIS_BELOW) return split(value, NANOS_PER.ms, 6);
  if (abs < MICROS_BELOW) return split(value, NANOS_PER.us, 3);
  return BigInt(Math.round(value));
}

// 2024-11-03T23:06:25.806123Z, 2024-11-03 23:06:25+01:00, 2024-11-03T23:06Z, 2024-11-03 (midnight UTC)
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DIGITS = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Epoch nanoseconds of an ISO-8601 date-time. A value without an offset is taken as UTC (Python's
 * `datetime.utcnow().isoformat()` writes none), not as the agent's local time. Fractions keep up to nanoseconds.
 */
export function isoToNanos(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2024-02-30 over into March: a day that does not exist in its month is refused.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const fracNanos = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return BigInt(ms - offsetMinutes * 60_000) * NANOS_PER.ms + fracNanos;
}

/**
 * Epoch nanoseconds of a time value from an event: an epoch number (unit detected from its magnitude), the same
 * as a string of digits, or an ISO-8601 string. Undefined for anything else (null, objects, unparsable text).
 */
export function toEpochNanos(value: unknown): bigint | undefined {
  if (typeof value === 'number') return epochNumberToNanos(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DIGITS.test(text)) return epochNumberToNanos(Number(text));
  return isoToNanos(text);
}

/** Converts epoch nanoseconds to whole units of the write precision, rounding towards the past. */
export function nanosTo(ns: bigint, precision: Precision): bigint {
  const unit = NANOS_PER[precision];
  if (unit === 1n) return ns;
  const q = ns / unit;
  return ns < 0n && q * unit !== ns ? q - 1n : q;
}

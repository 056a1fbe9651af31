import { describe, expect, it } from 'vitest';
import { epochNumberToNanos, isoToNanos, nanosTo, toEpochNanos } from './timestamp.ts';

const T = 1_700_000_000n; // 2023-11-14T22:13:20Z in seconds

describe('epoch numbers: the unit is detected per value', () => {
  it('reads seconds, milliseconds, microseconds and nanoseconds', () => {
    expect(epochNumberToNanos(1_700_000_000)).toBe(T * 1_000_000_000n);
    expect(epochNumberToNanos(1_700_000_000_123)).toBe(T * 1_000_000_000n + 123_000_000n);
    expect(epochNumberToNanos(1_700_000_000_123_456)).toBe(T * 1_000_000_000n + 123_456_000n);
    expect(epochNumberToNanos(1.7e18)).toBe(1_700_000_000_000_000_000n);
  });

  it('keeps fractions: seconds to the microsecond, milliseconds to the nanosecond', () => {
    expect(epochNumberToNanos(1_700_000_000.123456)).toBe(T * 1_000_000_000n + 123_456_000n);
    expect(epochNumberToNanos(1_700_000_000_123.5)).toBe(T * 1_000_000_000n + 123_500_000n);
    expect(epochNumberToNanos(0.5)).toBe(500_000_000n);
  });

  it('handles times before 1970 and refuses NaN and infinities', () => {
    expect(epochNumberToNanos(-1)).toBe(-1_000_000_000n);
    expect(epochNumberToNanos(-1.5)).toBe(-1_500_000_000n);
    expect(epochNumberToNanos(Number.NaN)).toBeUndefined();
    expect(epochNumberToNanos(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('ISO-8601', () => {
  it('reads UTC times with any number of fraction digits (Python writes microseconds)', () => {
    expect(isoToNanos('2023-11-14T22:13:20Z')).toBe(T * 1_000_000_000n);
    expect(isoToNanos('2023-11-14T22:13:20.806123Z')).toBe(T * 1_000_000_000n + 806_123_000n);
    expect(isoToNanos('2023-11-14T22:13:20.123456789Z')).toBe(T * 1_000_000_000n + 123_456_789n);
    expect(isoToNanos('2023-11-14T22:13:20.1234567891Z')).toBe(T * 1_000_000_000n + 123_456_789n);
    expect(isoToNanos('2023-11-14 22:13:20,5z')).toBe(T * 1_000_000_000n + 500_000_000n);
  });

  it('applies offsets, and takes a time without one as UTC', () => {
    expect(isoToNanos('2023-11-14T23:13:20+01:00')).toBe(T * 1_000_000_000n);
    expect(isoToNanos('2023-11-14T17:43:20-0430')).toBe(T * 1_000_000_000n);
    expect(isoToNanos('2023-11-14T23:13:20+01')).toBe(T * 1_000_000_000n);
    expect(isoToNanos('2023-11-14T22:13:20.806123')).toBe(T * 1_000_000_000n + 806_123_000n);
    expect(isoToNanos('2023-11-14T22:13')).toBe((T - 20n) * 1_000_000_000n);
    expect(isoToNanos('2023-11-14')).toBe(BigInt(Date.UTC(2023, 10, 14)) * 1_000_000n);
  });

  it('refuses dates and times that do not exist, and other text', () => {
    for (const bad of ['2024-02-30T00:00:00Z', '2023-13-01', '2023-11-14T24:00:00Z', '2023-11-14T22:60:00Z', '2023-11-14T22:13:20+25:00', 'yesterday', '14/11/2023', ''])
      expect(isoToNanos(bad), bad).toBeUndefined();
    expect(isoToNanos('2024-02-29T00:00:00Z')).toBe(BigInt(Date.UTC(2024, 1, 29)) * 1_000_000n);
  });
});

describe('toEpochNanos', () => {
  it('takes numbers, numeric strings and ISO strings, and nothing else', () => {
    expect(toEpochNanos(1_700_000_000_000)).toBe(T * 1_000_000_000n);
    expect(toEpochNanos('1700000000000')).toBe(T * 1_000_000_000n);
    expect(toEpochNanos(' 1700000000 ')).toBe(T * 1_000_000_000n);
    expect(toEpochNanos('1.7e9')).toBe(T * 1_000_000_000n);
    expect(toEpochNanos('2023-11-14T22:13:20Z')).toBe(T * 1_000_000_000n);
    for (const bad of [null, undefined, true, {}, [], 'soon', '12:00']) expect(toEpochNanos(bad), String(bad)).toBeUndefined();
  });
});

describe('nanosTo: truncation to the write precision', () => {
  const ns = T * 1_000_000_000n + 123_456_789n;
  it('cuts to each precision', () => {
    expect(nanosTo(ns, 'ns')).toBe(ns);
    expect(nanosTo(ns, 'us')).toBe(T * 1_000_000n + 123_456n);
    expect(nanosTo(ns, 'ms')).toBe(T * 1_000n + 123n);
    expect(nanosTo(ns, 's')).toBe(T);
  });

  it('rounds towards the past before 1970, like a clock', () => {
    expect(nanosTo(-1_500_000_000n, 's')).toBe(-2n);
    expect(nanosTo(-1_000_000_000n, 's')).toBe(-1n);
  });
});

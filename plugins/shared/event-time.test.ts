import { describe, expect, it } from 'vitest';
import { fromEpochNumber, parseEventTime, parseIso, Zone } from './event-time.ts';

const utc = new Zone('UTC');
const T = Date.UTC(2024, 2, 7, 14, 37, 21, 500); // 2024-03-07T14:37:21.500Z

describe('event time parsing', () => {
  it('tells epoch seconds, milliseconds, microseconds and nanoseconds apart by magnitude', () => {
    expect(fromEpochNumber(T / 1000)).toBe(T);
    expect(fromEpochNumber(Math.floor(T / 1000))).toBe(T - 500);
    expect(fromEpochNumber(T)).toBe(T);
    expect(fromEpochNumber(T * 1000)).toBe(T);
    expect(fromEpochNumber(T * 1e6)).toBe(T);
    expect(fromEpochNumber(Number.NaN)).toBeUndefined();
  });

  it('accepts numbers and digit strings (the timestamp header) alike', () => {
    expect(parseEventTime(1709822241, utc)).toBe(T - 500);
    expect(parseEventTime('1709822241', utc)).toBe(T - 500);
    expect(parseEventTime(` ${T} `, utc)).toBe(T);
    expect(parseEventTime('1709822241.5', utc)).toBe(T);
  });

  it('parses ISO-8601 with Z, with offsets, and without an offset as wall-clock time in the zone', () => {
    expect(parseEventTime('2024-03-07T14:37:21.500Z', utc)).toBe(T);
    expect(parseEventTime('2024-03-07T14:37:21.500123Z', utc)).toBe(T); // Python isoformat() has microseconds
    expect(parseEventTime('2024-03-07T15:37:21.5+01:00', utc)).toBe(T);
    expect(parseEventTime('2024-03-07T09:37:21.5-0500', utc)).toBe(T);
    expect(parseEventTime('2024-03-07 14:37:21.500', utc)).toBe(T);
    expect(parseEventTime('2024-03-07', utc)).toBe(Date.UTC(2024, 2, 7));
    expect(parseIso('2024-03-07T15:37:21.500', new Zone('Europe/Paris'))).toBe(T);
    expect(parseIso('2024-07-07T16:00:00', new Zone('Europe/Paris'))).toBe(Date.UTC(2024, 6, 7, 14)); // summer time
  });

  it('refuses what is not a time', () => {
    for (const bad of ['', 'yesterday', 'March 7 2024', '2024-02-30T00:00:00Z', '2024-13-01', '2024-03-07T25:00:00Z', true, null, {}, [1]]) {
      expect(parseEventTime(bad, utc), String(bad)).toBeUndefined();
    }
  });
});

describe('time zones', () => {
  it('computes offsets, including half- and quarter-hour zones and summer time', () => {
    expect(utc.offset(T)).toBe(0);
    expect(new Zone('Asia/Kolkata').offset(T)).toBe(5.5 * 3_600_000);
    expect(new Zone('Asia/Kathmandu').offset(T)).toBe(5.75 * 3_600_000);
    expect(new Zone('America/New_York').offset(Date.UTC(2024, 0, 15))).toBe(-5 * 3_600_000);
    expect(new Zone('America/New_York').offset(Date.UTC(2024, 6, 15))).toBe(-4 * 3_600_000);
  });

  it('resolves "local" to the machine zone and rejects unknown names', () => {
    expect(new Zone('local').name).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(() => new Zone('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

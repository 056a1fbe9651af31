import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { invalidPathReason, PathTemplate, type TimeOptions } from './path-escapes.ts';

const base: TimeOptions = { round: false, roundValue: 1, roundUnit: 'second', timeZone: 'UTC', useLocalTimeStamp: false };
const T = Date.UTC(2024, 2, 7, 14, 37, 21, 500); // 2024-03-07T14:37:21.500Z
const stamped = (ms = T, data: unknown = {}) => Event.fromData(data, { timestamp: String(ms) });
const dir = (path: string, e: Event, o: Partial<TimeOptions> = {}, now = 0) => new PathTemplate(path, { ...base, ...o }).resolve(e, now);

describe('hdfs path escapes', () => {
  it('formats every time escape from the timestamp header', () => {
    expect(dir('/flume/%Y/%y/%m/%d/%H/%M/%S', stamped())).toEqual({ dir: '/flume/2024/24/03/07/14/37/21' });
    expect(dir('/f/%s-%t', stamped())).toEqual({ dir: `/f/${Math.floor(T / 1000)}-${T}` });
    expect(dir('/f/100%%', stamped())).toEqual({ dir: '/f/100%' });
  });

  it('rounds down to 10 minutes, 15 seconds and 6 hours, on the wall clock', () => {
    const ten = { round: true, roundValue: 10, roundUnit: 'minute' } as const;
    expect(dir('/flume/%Y%m%d/%H%M%S', stamped(), ten)).toEqual({ dir: '/flume/20240307/143000' });
    expect(dir('/flume/%H%M', stamped(Date.UTC(2024, 2, 7, 14, 39, 59, 999)), ten)).toEqual({ dir: '/flume/1430' });
    expect(dir('/flume/%H%M', stamped(Date.UTC(2024, 2, 7, 14, 40)), ten)).toEqual({ dir: '/flume/1440' });
    expect(dir('/f/%t', stamped(), ten)).toEqual({ dir: `/f/${Date.UTC(2024, 2, 7, 14, 30)}` });
    expect(dir('/f/%M%S', stamped(), { round: true, roundValue: 15, roundUnit: 'second' })).toEqual({ dir: '/f/3715' });
    expect(dir('/f/%d%H%M', stamped(), { round: true, roundValue: 6, roundUnit: 'hour' })).toEqual({ dir: '/f/071200' });
    // 7 does not divide an hour: Flume restarts the multiples at every hour (56, then 00).
    expect(dir('/f/%H%M', stamped(Date.UTC(2024, 2, 7, 14, 58)), { round: true, roundValue: 7, roundUnit: 'minute' })).toEqual({ dir: '/f/1456' });
  });

  it('formats and rounds in the configured time zone', () => {
    expect(dir('/f/%Y%m%d/%H%M', stamped(), { timeZone: 'Asia/Tokyo' })).toEqual({ dir: '/f/20240307/2337' });
    expect(dir('/f/%Y%m%d/%H', stamped(Date.UTC(2024, 2, 7, 3)), { timeZone: 'America/Los_Angeles' })).toEqual({ dir: '/f/20240306/19' });
    // Kathmandu is UTC+05:45: 14:37Z is 20:22 there, whose 10-minute bucket is 20:20 (flooring epoch minutes would give 20:15).
    expect(dir('/f/%H%M', stamped(), { timeZone: 'Asia/Kathmandu', round: true, roundValue: 10, roundUnit: 'minute' })).toEqual({ dir: '/f/2020' });
  });

  it('takes the time from a body field (epoch s, ms or ISO), falling back to the timestamp header', () => {
    const o = { timestampField: 'transactionTime' };
    expect(dir('/f/%H%M%S', Event.fromData({ transactionTime: Math.floor(T / 1000) }), o)).toEqual({ dir: '/f/143721' });
    expect(dir('/f/%H%M%S', Event.fromData({ transactionTime: T }), o)).toEqual({ dir: '/f/143721' });
    expect(dir('/f/%H%M%S', Event.fromText('{"transactionTime":"2024-03-07T14:37:21.500Z"}'), o)).toEqual({ dir: '/f/143721' });
    expect(dir('/f/%H', Event.fromData({ payer: { at: T } }), { timestampField: 'payer.at' })).toEqual({ dir: '/f/14' });
    expect(dir('/f/%H%M%S', stamped(Date.UTC(2024, 0, 1, 8)), o)).toEqual({ dir: '/f/080000' });
  });

  it('gives missing-timestamp, with the reason, for an event without a usable time', () => {
    const o = { timestampField: 'transaction_date' };
    expect(dir('/f/%H', Event.fromData({ id: 1 }), o)).toEqual({ reason: 'missing-timestamp', detail: 'no field "transaction_date" and no "timestamp" header' });
    expect(dir('/f/%H', Event.fromData({ transaction_date: 'soon' }), o)).toMatchObject({ reason: 'missing-timestamp', detail: expect.stringContaining('"soon"') });
    expect(dir('/f/%H', Event.fromData({}, { timestamp: 'x' }))).toMatchObject({ reason: 'missing-timestamp' });
    expect(dir('/f/%H', Event.fromText('not json'))).toEqual({ reason: 'missing-timestamp', detail: 'no "timestamp" header' });
    // Without time escapes no time is needed.
    expect(dir('/f/static', Event.fromText('not json'))).toEqual({ dir: '/f/static' });
  });

  it('uses the agent clock with useLocalTimeStamp', () => {
    expect(dir('/f/%H%M', Event.fromData({}), { useLocalTimeStamp: true }, Date.UTC(2024, 0, 1, 9, 5))).toEqual({ dir: '/f/0905' });
  });

  it('substitutes headers and fields, and refuses values that make a bad path', () => {
    const e = Event.fromData({ merchant: { id: 'M1' }, city: 'New York' }, { topic: 'finance', timestamp: String(T) });
    expect(dir('/data/%{topic}/%[merchant.id]/%[city]/%Y', e)).toEqual({ dir: '/data/finance/M1/New York/2024' });
    expect(dir('/data/%{nope}', e)).toEqual({ reason: 'invalid-path', detail: '%{nope} has no value in the event' });
    expect(dir('/data/%{h}', Event.fromData({}, { h: '..' }))).toMatchObject({ reason: 'invalid-path', detail: expect.stringContaining('".."') });
    expect(dir('/data/%{h}', Event.fromData({}, { h: 'a:b' }))).toMatchObject({ reason: 'invalid-path' });
    expect(dir('/data/%{h}/', Event.fromData({}, { h: 'a//b' }))).toEqual({ dir: '/data/a/b' });
  });

  it('knows the static prefix and the bucket depth, for finding files after a crash', () => {
    const t = (p: string) => new PathTemplate(p, base);
    expect([t('/flume').staticPrefix, t('/flume').depth]).toEqual(['/flume', 0]);
    expect([t('/flume/').staticPrefix, t('/flume/').depth]).toEqual(['/flume', 0]);
    expect([t('/flume/%Y%m%d/%H%M').staticPrefix, t('/flume/%Y%m%d/%H%M').depth]).toEqual(['/flume', 2]);
    expect([t('/a/b/x-%Y/c').staticPrefix, t('/a/b/x-%Y/c').depth]).toEqual(['/a/b', 2]);
    expect([t('/%Y').staticPrefix, t('/%Y').depth]).toEqual(['/', 1]);
    expect([t('/logs/%{topic}/%Y').staticPrefix, t('/logs/%{topic}/%Y').depth]).toEqual(['/logs', undefined]);
    expect(t('/flume').usesTime).toBe(false);
    expect(t('/flume/%H').usesTime).toBe(true);
  });

  it('rejects unknown escapes when compiled', () => {
    expect(() => new PathTemplate('/f/%Q', base)).toThrow(/unknown escape "%Q"/);
    expect(() => new PathTemplate('/f/%', base)).toThrow(/unknown escape "%"/);
    expect(invalidPathReason('relative/x')).toBe('is not absolute');
    expect(invalidPathReason('/a/./b')).toBe('has a "." component');
  });
});

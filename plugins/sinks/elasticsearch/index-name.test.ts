import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/event.ts';
import { compileIndexName, eventTime, indexNameProblem, toEpochMillis } from './index-name.ts';

const T = Date.UTC(2024, 2, 5, 7, 8, 9); // 2024-03-05T07:08:09Z, day 65
const at = (ms: number) => () => ms;

describe('index names', () => {
  it('substitutes every date escape from the event time, in UTC by default', () => {
    const n = compileIndexName('x-%Y.%m.%d-%H:%M:%S-%y-%j-%s-%%');
    expect(n(Event.fromText('a'), at(T))).toBe(`x-2024.03.05-07:08:09-24-065-${T / 1000}-%`);
    expect(n.usesTime).toBe(true);
    expect(n.constant).toBeUndefined();
    expect(n.prefix).toBe('x-');
  });

  it('mixes date escapes with %{header} and %[field], and reports a missing value as undefined', () => {
    const n = compileIndexName('fintrans-%{region}-%[currency]-%Y.%m');
    expect(n(Event.fromData({ currency: 'eur' }, { region: 'eu' }), at(T))).toBe('fintrans-eu-eur-2024.03');
    expect(n(Event.fromData({}, { region: 'eu' }), at(T))).toBeUndefined();
    expect(n(Event.fromData({ currency: 'eur' }), at(T))).toBeUndefined();
    expect(n.prefix).toBe('fintrans-');
  });

  it('a header value is never taken for an escape', () => {
    const n = compileIndexName('a-%{h}');
    expect(n(Event.fromText('x', { h: '%Y' }), at(T))).toBe('a-%Y');
    expect(n.usesTime).toBe(false);
  });

  it('needs the time only when a date escape is used', () => {
    let asked = 0;
    const constant = compileIndexName('fintrans');
    expect(constant.constant).toBe('fintrans');
    expect(constant(Event.fromText('x'), () => ++asked)).toBe('fintrans');
    expect(asked).toBe(0);
  });

  it('formats in another time zone, across a day boundary', () => {
    const n = compileIndexName('i-%Y.%m.%d-%H-%j', 'Asia/Tokyo');
    expect(n(Event.fromText('x'), at(Date.UTC(2023, 11, 31, 20, 0, 0)))).toBe('i-2024.01.01-05-001');
    const ny = compileIndexName('i-%Y.%m.%d-%H', 'America/New_York');
    expect(ny(Event.fromText('x'), at(Date.UTC(2024, 0, 1, 3, 0, 0)))).toBe('i-2023.12.31-22');
  });

  it('keeps consecutive events of the same second consistent, and changes with the second', () => {
    const n = compileIndexName('i-%H%M%S');
    expect(n(Event.fromText('x'), at(T))).toBe('i-070809');
    expect(n(Event.fromText('x'), at(T + 999))).toBe('i-070809');
    expect(n(Event.fromText('x'), at(T + 1000))).toBe('i-070810');
  });

  it('caches the date per day or per 15 minutes, never across a boundary of the escapes used', () => {
    const utc = compileIndexName('d-%Y.%m.%d');
    const midnight = Date.UTC(2024, 0, 2);
    expect([midnight - 1, midnight, midnight - 1].map((ms) => utc(Event.fromText('x'), at(ms)))).toEqual(['d-2024.01.01', 'd-2024.01.02', 'd-2024.01.01']);
    const tokyo = compileIndexName('d-%Y.%m.%d', 'Asia/Tokyo');
    const tokyoMidnight = Date.UTC(2024, 0, 1, 15); // 2024-01-02T00:00 in Tokyo
    expect([tokyoMidnight - 1, tokyoMidnight].map((ms) => tokyo(Event.fromText('x'), at(ms)))).toEqual(['d-2024.01.01', 'd-2024.01.02']);
    const kathmandu = compileIndexName('d-%d-%H', 'Asia/Kathmandu'); // UTC+5:45
    const hour = Date.UTC(2024, 0, 1, 18, 15); // 2024-01-02T00:00 in Kathmandu
    expect([hour - 1, hour].map((ms) => kathmandu(Event.fromText('x'), at(ms)))).toEqual(['d-01-23', 'd-02-00']);
  });

  it('refuses unknown escapes at compile time', () => {
    expect(() => compileIndexName('i-%q')).toThrow(/unknown escape "%q".*%Y/);
  });

  it('knows which names Elasticsearch refuses', () => {
    expect(indexNameProblem('fintrans-2024.03.05')).toBeUndefined();
    expect(indexNameProblem('Fintrans')).toMatch(/lowercase/);
    expect(indexNameProblem('a b')).toMatch(/space/);
    expect(indexNameProblem('_x')).toMatch(/start/);
    expect(indexNameProblem('..')).toMatch(/\.\./);
    expect(indexNameProblem('x'.repeat(256))).toMatch(/255/);
  });
});

describe('event time', () => {
  it('reads epoch seconds, epoch milliseconds and ISO-8601 strings', () => {
    expect(toEpochMillis(1_700_000_000)).toBe(1_700_000_000_000);
    expect(toEpochMillis(1_700_000_000.5)).toBe(1_700_000_000_500);
    expect(toEpochMillis(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(toEpochMillis('1700000000')).toBe(1_700_000_000_000);
    expect(toEpochMillis('2024-03-05T07:08:09Z')).toBe(T);
    expect(toEpochMillis(5, 'milliseconds')).toBe(5);
    expect(toEpochMillis(1_700_000_000_123, 'seconds')).toBe(1_700_000_000_123_000);
    for (const bad of ['soon', '', null, undefined, {}, true, Number.NaN, Infinity]) expect(toEpochMillis(bad)).toBeUndefined();
  });

  it('takes the field, else the timestamp header, else now, and says when it fell back', () => {
    let fallbacks = 0;
    const fb = () => fallbacks++;
    expect(eventTime(Event.fromData({ transactionTime: 1_700_000_000 }), 'transactionTime', 'auto', fb)).toBe(1_700_000_000_000);
    expect(eventTime(Event.fromData({ transactionTime: 'never' }, { timestamp: String(T) }), 'transactionTime', 'auto', fb)).toBe(T);
    expect(eventTime(Event.fromText('not json', { timestamp: String(T) }), undefined, 'auto', fb)).toBe(T);
    const before = Date.now();
    const now = eventTime(Event.fromData({}), 'transactionTime', 'auto', fb);
    expect(now).toBeGreaterThanOrEqual(before);
    expect(fallbacks).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { check, difference } from './match.ts';

const ev = (body: unknown, headers: Record<string, string> = {}) => Event.fromText(JSON.stringify(body), headers);

describe('expectation matching', () => {
  it('compares only the keys an expected object names, recursively', () => {
    expect(difference({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBeUndefined();
    expect(difference({ a: 1, b: { c: 2 } }, { b: { c: 3 } })).toBe('.b.c: expected 3, got 2');
    expect(difference({ a: 1 }, { z: 1 })).toBe('.z: expected 1, got nothing');
  });

  it('compares arrays by length and element, and never coerces types', () => {
    expect(difference({ ids: ['a', 'b'] }, { ids: ['a'] })).toMatch(/expected 1 elements, got 2/);
    expect(difference({ n: '1' }, { n: 1 })).toBe('.n: expected 1, got "1"');
    expect(difference({ n: null }, { n: null })).toBeUndefined();
  });

  it('an event list means exactly these events in this order', () => {
    const got = [ev({ id: 1 }), ev({ id: 2 })];
    expect(check(got, [{ id: 1 }, { id: 2 }])).toEqual([]);
    expect(check(got, [{ id: 2 }, { id: 1 }])).toEqual(['event 0: .id: expected 2, got 1', 'event 1: .id: expected 1, got 2']);
    expect(check(got, [{ id: 1 }])).toEqual(['expected exactly 1 events, got 2']);
    expect(check([], [])).toEqual([]);
  });

  it('contains, absent and count, with the nearest miss explained', () => {
    const got = [ev({ rule: 'a', v: 1 }), ev({ rule: 'b', v: 2 })];
    expect(check(got, { contains: [{ rule: 'b' }, { rule: 'a' }], count: 2 })).toEqual([]);
    expect(check(got, { contains: [{ rule: 'a' }, { rule: 'a' }] })[0]).toMatch(/contains\[1\]: no event matches .*differs at \.rule/);
    expect(check(got, { absent: [{ rule: 'c' }] })).toEqual([]);
    expect(check(got, { absent: [{ rule: 'b' }] })[0]).toMatch(/absent\[0\]: event 1 matches/);
    expect(check(got, { count: 3 })).toEqual(['expected 3 events, got 2']);
  });

  it('matches headers with $headers and text bodies as strings', () => {
    expect(check([ev({ a: 1 }, { 'dl.reason': 'late' })], [{ $headers: { 'dl.reason': 'late' }, a: 1 }])).toEqual([]);
    expect(check([ev({ a: 1 }, { 'dl.reason': 'late' })], [{ $headers: { 'dl.reason': 'no-time' } }])[0]).toMatch(/\$headers\.dl\.reason/);
    expect(check([Event.fromText('not json')], ['not json'])).toEqual([]);
  });
});

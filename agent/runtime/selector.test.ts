import { describe, expect, it } from 'vitest';
import { Event } from '../event.ts';
import { createSelector, type Routed } from './selector.ts';

const ev = (id: number, headers: Record<string, string> = {}) => Event.fromData({ id }, headers);
const ids = (list: readonly Event[] | undefined) => (list ?? []).map((e) => (e.data as { id: number }).id);
/** Channel name → event ids, for required and optional, so one toEqual shows the whole routing. */
const view = (r: Routed) => ({
  required: Object.fromEntries([...r.required].map(([c, l]) => [c, ids(l)])),
  optional: Object.fromEntries([...r.optional].map(([c, l]) => [c, ids(l)])),
});

describe('replicating selector', () => {
  it('sends every event to every channel when no config is given', () => {
    const batch = [ev(1), ev(2), ev(3)];
    const r = createSelector(['a', 'b'], undefined)(batch);
    expect(view(r)).toEqual({ required: { a: [1, 2, 3], b: [1, 2, 3] }, optional: {} });
  });

  it('behaves the same with an explicit type: replicating', () => {
    const r = createSelector(['a', 'b', 'c'], { type: 'replicating' })([ev(1)]);
    expect([...r.required.keys()]).toEqual(['a', 'b', 'c']);
    expect(r.optional.size).toBe(0);
  });

  it('separates optional channels from required ones', () => {
    const r = createSelector(['a', 'b', 'c'], { type: 'replicating', optional: ['b'] })([ev(1), ev(2)]);
    expect(view(r)).toEqual({ required: { a: [1, 2], c: [1, 2] }, optional: { b: [1, 2] } });
  });

  it('keeps batch order', () => {
    const batch = Array.from({ length: 50 }, (_, i) => ev(i));
    const r = createSelector(['a'], { type: 'replicating' })(batch);
    expect(ids(r.required.get('a'))).toEqual(batch.map((_, i) => i));
  });

  it('routes an empty batch to empty lists', () => {
    const r = createSelector(['a'], { type: 'replicating', optional: ['a'] })([]);
    expect(r.required.size).toBe(0);
    expect(ids(r.optional.get('a'))).toEqual([]);
  });
});

describe('multiplexing selector', () => {
  const select = createSelector(['eu', 'us', 'other', 'audit'], {
    type: 'multiplexing',
    header: 'region',
    mapping: { eu: ['eu'], us: ['us', 'audit'] },
    default: ['other'],
  });

  it('routes each event by its header value through the mapping', () => {
    const r = select([ev(1, { region: 'eu' }), ev(2, { region: 'us' }), ev(3, { region: 'eu' })]);
    expect(view(r)).toEqual({ required: { eu: [1, 3], us: [2], audit: [2] }, optional: {} });
  });

  it('sends unmapped values and events without the header to the default channels', () => {
    const r = select([ev(1, { region: 'apac' }), ev(2), ev(3, { other: 'eu' }), ev(4, { region: 'eu' })]);
    expect(view(r)).toEqual({ required: { other: [1, 2, 3], eu: [4] }, optional: {} });
  });

  it('uses flume.selector.header when no header is configured', () => {
    const r = createSelector(['a', 'b'], { type: 'multiplexing', mapping: { x: ['a'] }, default: ['b'] })([
      ev(1, { 'flume.selector.header': 'x' }),
      ev(2, { h: 'x' }),
    ]);
    expect(view(r).required).toEqual({ a: [1], b: [2] });
  });

  it('adds optional channels per header value, including for unmapped values', () => {
    const r = createSelector(['a', 'b', 'c'], {
      type: 'multiplexing',
      header: 'h',
      mapping: { x: ['a'] },
      default: ['b'],
      optional: { x: ['c'], z: ['c'] },
    })([ev(1, { h: 'x' }), ev(2, { h: 'y' }), ev(3, { h: 'z' }), ev(4)]);
    expect(view(r)).toEqual({ required: { a: [1], b: [2, 3, 4] }, optional: { c: [1, 3] } });
  });

  it('counts a channel listed both as required and optional for a value as required only', () => {
    const r = createSelector(['a', 'b'], {
      type: 'multiplexing',
      header: 'h',
      mapping: { x: ['a', 'b'] },
      default: ['a'],
      optional: { x: ['b'], y: ['a'] },
    })([ev(1, { h: 'x' }), ev(2, { h: 'y' })]);
    expect(view(r)).toEqual({ required: { a: [1, 2], b: [1] }, optional: {} });
  });
});

import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { recordingProcessContext } from '../../agent/testing/context.ts';
import filter, { type FilterConfig } from './filter.ts';

const validator = new Ajv({ useDefaults: true, strict: false, allowUnionTypes: true }).compile(filter.schema);

function configOf(partial: Partial<FilterConfig>): FilterConfig {
  const config = structuredClone(partial);
  if (!validator(config)) throw new Error(JSON.stringify(validator.errors));
  return Object.freeze(config) as FilterConfig;
}

/** Runs one batch through a fresh filter; returns the bodies that passed and the filter's context. */
async function run(partial: Partial<FilterConfig>, events: Event[]) {
  const ctx = recordingProcessContext('filter');
  const processor = await filter.create(configOf(partial), ctx);
  const out = await processor.process(events, ctx);
  return { out: out.map((e) => e.text), ctx, filtered: ctx.stats.get('events_filtered_total') };
}

const json = (value: unknown, headers = {}) => Event.fromText(JSON.stringify(value), headers);
const tx = () => [
  json({ id: 1, currency: 'USD', amount: 12.5, payer: { country: 'DE' }, source: '516' }),
  json({ id: 2, currency: 'EUR', amount: 9000, payer: { country: 'US' }, source: '17', flagged: null }),
  json({ id: 3, currency: 'GBP', amount: 516, payer: {}, flagged: true }),
];

describe('filter by field', () => {
  test('keeps events whose field matches the regex, counting the rest as filtered', async () => {
    const { out, ctx, filtered } = await run({ field: 'currency', regex: '^(USD|EUR)$' }, tx());
    expect(out.map((t) => JSON.parse(t).id)).toEqual([1, 2]);
    expect(filtered).toBe(1);
    expect(ctx.deadLetters).toHaveLength(0);
  });

  test('drops events whose dotted field matches in drop mode', async () => {
    const { out, filtered } = await run({ field: 'payer.country', regex: 'US', mode: 'drop' }, tx());
    expect(out.map((t) => JSON.parse(t).id)).toEqual([1, 3]);
    expect(filtered).toBe(1);
  });

  test('tests numbers as text with a regex', async () => {
    const { out } = await run({ field: 'amount', regex: '^\\d{4,}$' }, tx());
    expect(out.map((t) => JSON.parse(t).id)).toEqual([2]);
  });

  test('equals compares as text, so a number matches a numeric string and the reverse', async () => {
    expect((await run({ field: 'source', equals: 516 }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([1]);
    expect((await run({ field: 'amount', equals: '516' }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([3]);
    expect((await run({ field: 'flagged', equals: true }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([3]);
  });

  test('exists counts a JSON null as present, and exists: false keeps the absent ones', async () => {
    expect((await run({ field: 'flagged', exists: true }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([2, 3]);
    expect((await run({ field: 'flagged', exists: false }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([1]);
    expect((await run({ field: 'payer.country', exists: true, mode: 'drop' }, tx())).out.map((t) => JSON.parse(t).id)).toEqual([3]);
  });

  test('objects and absent values never match a regex or equals', async () => {
    expect((await run({ field: 'payer', regex: '.*' }, tx())).out).toEqual([]);
    expect((await run({ field: 'missing.deeper', equals: 'x', mode: 'drop' }, tx())).out).toHaveLength(3);
  });

  test('a body that is not JSON never matches: dropped in keep mode, kept in drop mode', async () => {
    const bad = () => [Event.fromText('not json'), json({ id: 9 })];
    expect((await run({ field: 'id', exists: false }, bad())).out).toEqual([]);
    expect((await run({ field: 'id', exists: true, mode: 'drop' }, bad())).out).toEqual(['not json']);
  });
});

describe('filter by header', () => {
  const events = () => [Event.fromText('a', { topic: 'payments' }), Event.fromText('b', { topic: 'refunds' }), Event.fromText('c')];

  test('regex, equals and exists', async () => {
    expect((await run({ header: 'topic', regex: '^pay' }, events())).out).toEqual(['a']);
    expect((await run({ header: 'topic', equals: 'refunds', mode: 'drop' }, events())).out).toEqual(['a', 'c']);
    expect((await run({ header: 'topic', exists: true }, events())).out).toEqual(['a', 'b']);
    expect((await run({ header: 'topic', exists: false }, events())).out).toEqual(['c']);
  });

  test('does not need a JSON body', async () => {
    const { out, filtered } = await run({ header: 'topic', exists: true }, [Event.fromText('{{{', { topic: 'x' })]);
    expect(out).toEqual(['{{{']);
    expect(filtered).toBe(0);
  });
});

describe('filter batches and config', () => {
  test('returns the input array untouched when nothing is dropped, and never mutates it', async () => {
    const ctx = recordingProcessContext('filter');
    const processor = await filter.create(configOf({ field: 'id', exists: true }), ctx);
    const batch = tx();
    expect(await processor.process(batch, ctx)).toBe(batch);
    const dropping = await filter.create(configOf({ field: 'id', equals: 2, mode: 'drop' }), ctx);
    const out = await dropping.process(batch, ctx);
    expect(out).toHaveLength(2);
    expect(batch).toHaveLength(3);
  });

  test('an invalid regex fails create() with a clear message', () => {
    expect(() => filter.create(configOf({ field: 'id', regex: '(unclosed' }), recordingProcessContext('filter'))).toThrow(
      /filter: regex "\(unclosed" is not a valid JavaScript regular expression/,
    );
  });

  test('exactly one of field or header, and exactly one test, are required', () => {
    const ctx = recordingProcessContext('filter');
    expect(validator({ field: 'a', header: 'b', exists: true })).toBe(false);
    expect(validator({ field: 'a' })).toBe(false);
    expect(validator({ field: 'a', regex: 'x', equals: 'y' })).toBe(false);
    expect(() => filter.create({ field: 'a', header: 'b', exists: true, mode: 'keep' }, ctx)).toThrow(/exactly one of field or header/);
    expect(() => filter.create({ field: 'a', mode: 'keep' }, ctx)).toThrow(/exactly one of regex, equals or exists \(found none\)/);
    expect(() => filter.create({ header: 'a', regex: 'x', exists: true, mode: 'keep' }, ctx)).toThrow(/found regex, exists/);
  });
});

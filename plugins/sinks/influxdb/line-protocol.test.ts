import { describe, expect, it } from 'vitest';
import { escapeKey, escapeMeasurement, escapeString, fieldValue, formatLine, PointError, seriesKey, tagValue } from './line-protocol.ts';

function refusal(fn: () => unknown): { reason: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(PointError);
    return { reason: (e as PointError).reason, message: (e as PointError).message };
  }
}

describe('escaping', () => {
  it('measurement: commas and spaces, not equals signs', () => {
    expect(escapeMeasurement('cpu load,total=1')).toBe('cpu\\ load\\,total=1');
    expect(escapeMeasurement('finance_transaction_data')).toBe('finance_transaction_data');
  });

  it('tag keys, tag values and field keys: commas, equals signs and spaces', () => {
    expect(escapeKey('New York')).toBe('New\\ York');
    expect(escapeKey('a,b=c d')).toBe('a\\,b\\=c\\ d');
    expect(escapeKey('Main "Street"')).toBe('Main\\ "Street"');
    expect(escapeKey('back\\slash inside')).toBe('back\\slash\\ inside');
  });

  it('string fields: double quotes and backslashes, nothing else', () => {
    expect(escapeString('Payment of 10 USD')).toBe('"Payment of 10 USD"');
    expect(escapeString('say "hi"')).toBe('"say \\"hi\\""');
    expect(escapeString('C:\\temp\\')).toBe('"C:\\\\temp\\\\"');
    expect(escapeString('a,b=c d')).toBe('"a,b=c d"');
    expect(escapeString('')).toBe('""');
  });

  it('refuses what line protocol cannot carry in names and tags', () => {
    expect(refusal(() => escapeMeasurement(''))?.reason).toBe('invalid-measurement');
    expect(refusal(() => escapeMeasurement('#notes'))?.message).toMatch(/comment/);
    expect(refusal(() => escapeMeasurement('two\nlines'))?.reason).toBe('invalid-measurement');
    expect(refusal(() => escapeKey('a\r\nb'))?.reason).toBe('invalid-tag');
    expect(refusal(() => escapeKey('ends with \\'))?.message).toMatch(/backslash/);
    expect(refusal(() => escapeKey('bad\nkey', 'field key'))?.reason).toBe('invalid-field');
  });
});

describe('tag values', () => {
  it('leaves out null, absent and empty values, and writes numbers and booleans as text', () => {
    expect(tagValue('t', null)).toBeUndefined();
    expect(tagValue('t', undefined)).toBeUndefined();
    expect(tagValue('t', '')).toBeUndefined();
    expect(tagValue('t', 'San Francisco')).toBe('San\\ Francisco');
    expect(tagValue('t', 42)).toBe('42');
    expect(tagValue('t', false)).toBe('false');
  });

  it('refuses objects and arrays', () => {
    expect(refusal(() => tagValue('t', { a: 1 }))?.reason).toBe('invalid-tag');
    expect(refusal(() => tagValue('t', [1]))?.message).toMatch(/array/);
  });
});

describe('field values keep their types', () => {
  it('numbers are floats unless listed as integers', () => {
    expect(fieldValue('f', 5, false)).toBe('5');
    expect(fieldValue('f', 4386.31, false)).toBe('4386.31');
    expect(fieldValue('f', -0.5, false)).toBe('-0.5');
    expect(fieldValue('f', 1e21, false)).toBe('1e+21');
    expect(fieldValue('f', 42, true)).toBe('42i');
    expect(fieldValue('f', -7, true)).toBe('-7i');
  });

  it('booleans and strings', () => {
    expect(fieldValue('f', true, false)).toBe('true');
    expect(fieldValue('f', false, false)).toBe('false');
    expect(fieldValue('f', 'Deposit of "5" \\ USD', false)).toBe('"Deposit of \\"5\\" \\\\ USD"');
    expect(fieldValue('f', 'two\nlines', false)).toBe('"two\nlines"');
  });

  it('null and absent values leave the field out', () => {
    expect(fieldValue('f', null, false)).toBeUndefined();
    expect(fieldValue('f', undefined, true)).toBeUndefined();
  });

  it('refuses NaN, infinities, non-integers for integer fields, objects and arrays', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(refusal(() => fieldValue('f', v, false))?.reason).toBe('invalid-field');
    expect(refusal(() => fieldValue('age', 30.5, true))?.message).toMatch(/age is 30.5, not an integer/);
    expect(refusal(() => fieldValue('age', 1e19, true))?.reason).toBe('invalid-field');
    expect(refusal(() => fieldValue('age', '30', true))?.reason).toBe('invalid-field');
    expect(refusal(() => fieldValue('f', { a: 1 }, false))?.reason).toBe('invalid-field');
    expect(refusal(() => fieldValue('f', [1, 2], false))?.message).toMatch(/array/);
  });
});

describe('lines', () => {
  it('joins series, fields and time', () => {
    const series = seriesKey(escapeMeasurement('transactions_by_city'), [['city', escapeKey('New York')]]);
    expect(series).toBe('transactions_by_city,city=New\\ York');
    expect(formatLine(series, [['amount', '12.5'], ['n', '3i']], 1700000000000000000n)).toBe('transactions_by_city,city=New\\ York amount=12.5,n=3i 1700000000000000000');
    expect(formatLine('m', [['ok', 'true']])).toBe('m ok=true');
  });

  it('refuses a point without fields', () => {
    expect(refusal(() => formatLine('m', []))?.reason).toBe('no-fields');
  });
});

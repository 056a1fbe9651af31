import { describe, expect, test } from 'vitest';
import { Evaluator, FAILED } from './evaluate.ts';
import { parse } from './parser.ts';

const tx = { amount: 3500.5, currency: 'EUR', isInternational: true, payer: { country: 'DE', age: 40 }, note: null, tags: ['a'], zero: 0 };

function value(text: string, data: unknown = tx) {
  return new Evaluator(parse(text)).value(data);
}

function failure(text: string, data: unknown = tx): string {
  const ev = new Evaluator(parse(text));
  expect(ev.value(data), text).toBe(FAILED);
  return ev.lastError;
}

describe('expression evaluator', () => {
  test('arithmetic with precedence, unary minus, modulo', () => {
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('-amount + 1')).toBe(-3499.5);
    expect(value('17 % 5')).toBe(2);
    expect(value("'ab' + 'cd'")).toBe('abcd');
  });

  test('comparisons and strict equality without coercion', () => {
    expect(value('amount > 3000')).toBe(true);
    expect(value('amount >= 3500.5 && amount <= 3500.5')).toBe(true);
    expect(value("currency < 'USD'")).toBe(true);
    expect(value("zero == '0'")).toBe(false);
    expect(value('zero == false')).toBe(false);
    expect(value('note == null')).toBe(true);
    expect(value("payer.country != 'US'")).toBe(true);
  });

  test('logic short-circuits, so a missing field on the untaken side is no error', () => {
    expect(value('isInternational && amount > 3000')).toBe(true);
    expect(value('!isInternational && missing > 1')).toBe(false);
    expect(value('isInternational || missing > 1')).toBe(true);
    expect(value('!(amount > 3000)')).toBe(false);
  });

  test('in lists compare strictly', () => {
    expect(value("currency in ['USD', 'EUR']")).toBe(true);
    expect(value("payer.age in ['40', 41]")).toBe(false);
    expect(value('payer.age in [39 + 1]')).toBe(true);
    expect(value('1 in []')).toBe(false);
  });

  test('evaluation errors fail instead of throwing, and say why', () => {
    expect(failure('missing > 1')).toBe('field missing is missing');
    expect(failure('payer.city == 1')).toBe('field payer.city is missing');
    expect(failure("amount > '3000'")).toMatch(/'>' needs two numbers or two strings, got 3500.5 and the string "3000" at column 8/);
    expect(failure('amount && true')).toMatch(/'&&' needs true or false, got 3500.5/);
    expect(failure('true && amount')).toMatch(/'&&' needs true or false/);
    expect(failure('!amount')).toMatch(/'!' needs true or false/);
    expect(failure("-'a'")).toMatch(/'-' needs a number/);
    expect(failure("amount * 'a'")).toMatch(/'\*' needs two numbers/);
    expect(failure('amount / zero')).toMatch(/division by zero/);
    expect(failure('payer > 1')).toBe('field payer is an object, not a number, string, boolean or null');
    expect(failure('tags == 1')).toMatch(/field tags is an array/);
    expect(failure('amount > 1', 'not an object')).toBe('field amount is missing');
  });

  test('test() wants a boolean result', () => {
    const ev = new Evaluator(parse('amount + 1'));
    expect(ev.test(tx)).toBe(FAILED);
    expect(ev.lastError).toMatch(/gave 3501.5, not true or false/);
    expect(new Evaluator(parse('amount > 1')).test(tx)).toBe(true);
  });

  test('fields are own properties only: prototype names reach nothing', () => {
    expect(failure('constructor == null', {})).toBe('field constructor is missing');
    expect(failure('__proto__ == null', {})).toBe('field __proto__ is missing');
    expect(failure("toString == ''", { a: 1 })).toBe('field toString is missing');
    expect(value('constructor == 1', { constructor: 1 })).toBe(true);
  });

  test('the longest allowed expressions (2000 characters) parse and evaluate without exhausting the stack', () => {
    const nested = `${'('.repeat(999)}amount${')'.repeat(995)}`;
    expect(nested.length).toBeLessThanOrEqual(2000);
    expect(() => parse(nested)).toThrow(/expected '\)'/);
    expect(value(`${'('.repeat(996)}amount > 1${')'.repeat(996)}`)).toBe(true);
    expect(value(`${'-'.repeat(1998)}1`)).toBe(1);
    expect(value(Array.from({ length: 500 }, () => 'zero').join(' + '))).toBe(0);
    expect(value(Array.from({ length: 400 }, () => 'isInternational').join(' && '))).toBe(true);
  });
});

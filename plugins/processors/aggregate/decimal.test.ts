import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { addScaled, divideScaled, exactScaled, formatScaled, parseScaled, toScaled } from './decimal.ts';

describe('toScaled', () => {
  test('exact decimals become exact integers of 10^-scale', () => {
    expect(toScaled(0.1, 2)).toBe(10);
    expect(toScaled(1234567.89, 2)).toBe(123456789);
    expect(toScaled(-0.07, 2)).toBe(-7);
    expect(toScaled(12, 0)).toBe(12);
    expect(toScaled(0.000001, 6)).toBe(1);
    expect(Object.is(toScaled(-0.001, 2), 0)).toBe(true); // rounds to zero, not to -0
  });

  test('rounds half to even on the decimal text, not on the binary value', () => {
    // 1.005 is 1.00499999999999989... in binary; its text is a tie, which goes to the even 100.
    expect(toScaled(1.005, 2)).toBe(100);
    expect(toScaled(1.015, 2)).toBe(102);
    expect(toScaled(0.125, 2)).toBe(12);
    expect(toScaled(0.135, 2)).toBe(14);
    expect(toScaled(-0.125, 2)).toBe(-12);
    expect(toScaled(2.5, 0)).toBe(2);
    expect(toScaled(3.5, 0)).toBe(4);
    expect(toScaled(-3.5, 0)).toBe(-4);
    expect(toScaled(0.1251, 2)).toBe(13);
  });

  test('huge values come back as exact BigInts', () => {
    expect(toScaled(1e21, 2)).toBe(10n ** 23n);
    expect(toScaled(123456789012345.67, 2)).toBe(12345678901234567n);
    expect(exactScaled(1.5e-7, 7)).toBe(2); // exponent form, tie to even
  });

  test('every whole number of cents round-trips (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), (cents) => {
        expect(toScaled(cents / 100, 2)).toBe(cents);
      }),
      { numRuns: 20_000 },
    );
  });

  test('the fast path agrees with the exact decimal-text path (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 }), (n, decimals, scale) => {
        const x = n / 10 ** decimals;
        expect(toScaled(x, scale)).toBe(exactScaled(x, scale));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('sums', () => {
  test('a million amounts of 0.10 sum to exactly 100000, where floating point drifts', () => {
    let exact: number | bigint = 0;
    let float = 0;
    for (let i = 0; i < 1_000_000; i++) {
      exact = addScaled(exact, toScaled(0.1, 2));
      float += 0.1;
    }
    expect(float).not.toBe(100000); // the error this module exists to avoid
    expect(formatScaled(exact, 2)).toBe('100000');
  });

  test('random cents sum to the integer-cent sum exactly', () => {
    let exact: number | bigint = 0;
    let cents = 0;
    let seed = 7;
    for (let i = 0; i < 200_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const c = (seed % 2_000_000) - 500_000;
      cents += c;
      exact = addScaled(exact, toScaled(c / 100, 2));
    }
    expect(exact).toBe(cents);
  });

  test('leaving the safe-integer range switches to BigInt without losing a unit, and comes back', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const big = addScaled(max, 2);
    expect(big).toBe(9007199254740993n);
    expect(addScaled(big, 7)).toBe(9007199254741000n);
    expect(addScaled(big, -10)).toBe(max - 8);
    expect(formatScaled(addScaled(addScaled(max, max), 1), 2)).toBe('180143985094819.83');
  });
});

describe('averages and text', () => {
  test('divideScaled rounds half to even', () => {
    expect(divideScaled(5, 2)).toBe(2);
    expect(divideScaled(7, 2)).toBe(4);
    expect(divideScaled(-5, 2)).toBe(-2);
    expect(divideScaled(-7, 2)).toBe(-4);
    expect(divideScaled(10, 3)).toBe(3);
    expect(divideScaled(11, 3)).toBe(4);
    expect(divideScaled(-11, 3)).toBe(-4);
    expect(divideScaled(10n ** 20n + 1n, 2)).toBe(5n * 10n ** 19n);
    expect(divideScaled(10n ** 20n + 3n, 2)).toBe(5n * 10n ** 19n + 2n);
  });

  test('formatScaled prints what String(number) prints, exactly, at any size', () => {
    expect(formatScaled(123456789, 2)).toBe('1234567.89');
    expect(formatScaled(1050, 2)).toBe('10.5');
    expect(formatScaled(1000, 2)).toBe('10');
    expect(formatScaled(5, 2)).toBe('0.05');
    expect(formatScaled(-5, 2)).toBe('-0.05');
    expect(formatScaled(0, 2)).toBe('0');
    expect(formatScaled(42, 0)).toBe('42');
    expect(formatScaled(10n ** 20n + 1n, 2)).toBe('1000000000000000000.01');
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), (c) => {
        expect(formatScaled(c, 2)).toBe(String(c / 100));
      }),
      { numRuns: 10_000 },
    );
  });

  test('parseScaled reads persisted sums and refuses anything else', () => {
    expect(parseScaled('-123')).toBe(-123);
    expect(parseScaled('90071992547409930')).toBe(90071992547409930n);
    expect(() => parseScaled('1.5')).toThrow(/not an integer/);
  });
});

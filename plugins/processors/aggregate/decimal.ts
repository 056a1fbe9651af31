/**
 * Exact decimal arithmetic for money: amounts become integers of 10^-scale units (cents at scale 2), summed as
 * Numbers while the total stays a safe integer and as BigInt beyond, so a sum of millions of amounts carries no
 * binary floating-point error. Rounding to the scale is half to even (banker's rounding): an amount with more
 * decimals than the scale is rounded on its shortest decimal text, so 0.125 → 0.12 and 0.135 → 0.14 at scale 2,
 * and no bias accumulates over many rounded amounts.
 */

/** An integer count of 10^-scale units: a Number while safe, a BigInt beyond. */
export type Scaled = number | bigint;

export const MAX_SCALE = 12;
const POW10 = Array.from({ length: MAX_SCALE + 1 }, (_, i) => 10 ** i);
const MAX_FAST = 2 ** 40;

/** A BigInt back to a Number when it fits, so later additions take the fast path again. */
function normalize(v: bigint): Scaled {
  return v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v;
}

/** Rounds the integer quotient q + rem/divisor half to even; rem has the sign of the dividend. */
function roundHalfEven(q: bigint, rem: bigint, divisor: bigint): bigint {
  const twice = (rem < 0n ? -rem : rem) * 2n;
  if (twice > divisor || (twice === divisor && (q & 1n) !== 0n)) return rem < 0n ? q - 1n : q + 1n;
  return q;
}

/** Exact scaled value of x's shortest decimal text (what JSON carried): the slow path, for ties and huge values. */
export function exactScaled(x: number, scale: number): Scaled {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!m) throw new RangeError(`not a finite number: ${x}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  const digits = BigInt(int! + frac);
  const shift = Number(exp) - frac.length + scale;
  let v: bigint;
  if (shift >= 0) v = digits * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    v = roundHalfEven(digits / divisor, digits % divisor, divisor);
  }
  return normalize(sign ? -v : v);
}

/** x in 10^-scale units, rounded half to even. */
export function toScaled(x: number, scale: number): Scaled {
  const v = x * POW10[scale]!;
  if (v < MAX_FAST && v > -MAX_FAST) {
    const r = Math.round(v);
    const d = v - r;
    // Below 2^40, v is within 2^-12 of the exact product of x's decimal text, so unless v sits near a half the
    // nearest integer is right; an exact decimal such as 0.1 × 100 lands within that error of 10.
    if (d < 0.499 && d > -0.499) return r + 0;
  }
  return exactScaled(x, scale);
}

export function addScaled(a: Scaled, b: Scaled): Scaled {
  if (typeof a === 'number' && typeof b === 'number') {
    // The float sum of two integers is exact whenever the exact sum is a safe integer.
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  return normalize(BigInt(a) + BigInt(b));
}

export function compareScaled(a: Scaled, b: Scaled): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sum / count rounded half to even to whole units (the average keeps the scale). */
export function divideScaled(sum: Scaled, count: number): Scaled {
  if (typeof sum === 'number') {
    const rem = sum % count;
    const q = (sum - rem) / count;
    const twice = Math.abs(rem) * 2;
    if (twice > count || (twice === count && q % 2 !== 0)) return rem < 0 ? q - 1 : q + 1;
    return q + 0;
  }
  const c = BigInt(count);
  return normalize(roundHalfEven(sum / c, sum % c, c));
}

/** The decimal text of v × 10^-scale, shortest form (no trailing zeros), as String(number) would print it. */
export function formatScaled(v: Scaled, scale: number): string {
  const negative = v < 0;
  let digits = (negative ? -BigInt(v) : BigInt(v)).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    const int = digits.slice(0, digits.length - scale);
    const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
    digits = frac ? `${int}.${frac}` : int;
  }
  return negative && digits !== '0' ? `-${digits}` : digits;
}

/** A persisted Scaled (decimal integer text) back to a value. */
export function parseScaled(text: string): Scaled {
  if (!/^-?\d+$/.test(text)) throw new RangeError(`not an integer: ${JSON.stringify(text)}`);
  return normalize(BigInt(text));
}

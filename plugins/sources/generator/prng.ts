/**
 * A small, fast, seedable PRNG (sfc32, Chris Doty-Humphrey's Small Fast Counting generator). It passes PractRand
 * well beyond what synthetic data needs, runs on int32 arithmetic only (no BigInt, no allocation), and its whole
 * state is four integers, so a batch can be rolled back by copying them.
 */

/**
 * splitmix32 finaliser: spreads a seed's bits so that seeds 1, 2, 3 start in unrelated states. Also a cheap,
 * well-mixed hash of small integers (a user's home location).
 */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return x ^ (x >>> 15);
}

const TWO_POW_32 = 4294967296;

export type PrngState = readonly [number, number, number, number];

export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * Any safe integer is a valid seed; both halves of a seed above 2^32 count. `stream` selects one of several
   * independent sequences of the same seed (stream 0 is the historical one), so a second consumer can draw from
   * the seed without shifting what the first one draws.
   */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    this.a = mix32(lo);
    this.b = mix32(hi ^ 0x6a09e667);
    this.c = mix32(lo ^ 0xbb67ae85 ^ Math.imul(stream, 0x9e3779b9));
    this.d = mix32(hi + 1);
    // The first outputs of a counting generator still correlate with the seed; burning a few decorrelates them.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform integer in [0, n). Multiply-shift instead of modulo: no division, and exact for n up to 2^21 (the
   * product then fits in a double's 53 bits), which is all the generators here need.
   */
  int(n: number): number {
    return Math.floor(this.next() * (n / TWO_POW_32));
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / TWO_POW_32;
  }

  /** Picks one element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  save(): PrngState {
    return [this.a, this.b, this.c, this.d];
  }

  restore(state: PrngState): void {
    [this.a, this.b, this.c, this.d] = state;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * An RFC 4122 version-4-format UUID drawn from the PRNG (so it is reproducible, unlike crypto.randomUUID). Built
 * from a byte-to-hex table: string concatenation of 2-character pieces is the fastest formatting V8 offers.
 */
export function uuid(rng: Sfc32): string {
  const w0 = rng.next();
  const w1 = rng.next();
  const w2 = rng.next();
  const w3 = rng.next();
  return (
    HEX[w0 >>> 24]! + HEX[(w0 >>> 16) & 255]! + HEX[(w0 >>> 8) & 255]! + HEX[w0 & 255]! + '-' +
    HEX[w1 >>> 24]! + HEX[(w1 >>> 16) & 255]! + '-' +
    HEX[((w1 >>> 8) & 0x0f) | 0x40]! + HEX[w1 & 255]! + '-' +
    HEX[((w2 >>> 24) & 0x3f) | 0x80]! + HEX[(w2 >>> 16) & 255]! + '-' +
    HEX[(w2 >>> 8) & 255]! + HEX[w2 & 255]! +
    HEX[w3 >>> 24]! + HEX[(w3 >>> 16) & 255]! + HEX[(w3 >>> 8) & 255]! + HEX[w3 & 255]!
  );
}

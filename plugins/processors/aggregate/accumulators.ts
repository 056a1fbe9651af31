/**
 * What one (pane, group) remembers, and how the configured metrics read it. Metrics on the same field share one
 * slot (sum, avg and max of `amount` convert each amount once), and every event counted has all its metric fields,
 * so one event count serves count and every avg.
 */
import { type Scaled, addScaled, divideScaled, formatScaled, parseScaled, toScaled } from './decimal.ts';

export type Op = 'sum' | 'avg' | 'min' | 'max' | 'count';
export const OPS: readonly Op[] = ['sum', 'avg', 'min', 'max', 'count'];

export interface MetricConfig {
  op: Op;
  field?: string;
}

/** The state of one group in one pane (or, merged, in one window). */
export class Acc {
  count = 0;
  constructor(
    /** The group-by values, in groupBy order, as the first event of the group carried them. */
    readonly values: unknown[],
    readonly sums: Scaled[],
    /** Input values as given (not rounded): min and max are exact without any conversion. */
    readonly mins: number[],
    readonly maxs: number[],
  ) {}
}

/** The plain-JSON form of an Acc in a state file (BigInt-safe: sums as integer text). */
export type AccJson = [values: unknown[], count: number, sums: string[], mins: (number | null)[], maxs: (number | null)[]];

export class MetricPlan {
  /** The distinct fields the metrics read, in first-use order. */
  readonly fields: string[];
  readonly paths: string[][];
  private readonly needSum: boolean[];
  private readonly needMin: boolean[];
  private readonly needMax: boolean[];
  private readonly metrics: { name: string; op: Op; slot: number }[];

  constructor(
    metrics: Readonly<Record<string, MetricConfig>>,
    readonly scale: number,
  ) {
    this.fields = [];
    this.needSum = [];
    this.needMin = [];
    this.needMax = [];
    this.metrics = [];
    for (const [name, m] of Object.entries(metrics)) {
      let slot = -1;
      if (m.op !== 'count') {
        slot = this.fields.indexOf(m.field!);
        if (slot < 0) {
          slot = this.fields.push(m.field!) - 1;
          this.needSum.push(false), this.needMin.push(false), this.needMax.push(false);
        }
        if (m.op === 'sum' || m.op === 'avg') this.needSum[slot] = true;
        if (m.op === 'min') this.needMin[slot] = true;
        if (m.op === 'max') this.needMax[slot] = true;
      }
      this.metrics.push({ name, op: m.op, slot });
    }
    this.paths = this.fields.map((f) => f.split('.'));
  }

  /** A signature of everything that shapes the state, so a state file from another config is refused. */
  get signature(): string {
    return JSON.stringify({ fields: this.fields, scale: this.scale, sum: this.needSum, min: this.needMin, max: this.needMax });
  }

  create(values: unknown[]): Acc {
    const n = this.fields.length;
    return new Acc(values, new Array<Scaled>(n).fill(0), new Array<number>(n).fill(Infinity), new Array<number>(n).fill(-Infinity));
  }

  /** Counts one event whose metric fields (in `fields` order) are the numbers in `x`. */
  add(acc: Acc, x: readonly number[]): void {
    acc.count++;
    const { sums, mins, maxs } = acc;
    for (let j = 0; j < x.length; j++) {
      const v = x[j]!;
      if (this.needSum[j]) {
        const s = sums[j]!;
        const d = toScaled(v, this.scale);
        if (typeof s === 'number' && typeof d === 'number') {
          const r = s + d;
          sums[j] = Number.isSafeInteger(r) ? r : addScaled(s, d);
        } else sums[j] = addScaled(s, d);
      }
      if (v < mins[j]!) mins[j] = v;
      if (v > maxs[j]!) maxs[j] = v;
    }
  }

  /** Folds `from` into `into` (panes into a window). */
  merge(into: Acc, from: Acc): void {
    into.count += from.count;
    for (let j = 0; j < this.fields.length; j++) {
      into.sums[j] = addScaled(into.sums[j]!, from.sums[j]!);
      if (from.mins[j]! < into.mins[j]!) into.mins[j] = from.mins[j]!;
      if (from.maxs[j]! > into.maxs[j]!) into.maxs[j] = from.maxs[j]!;
    }
  }

  clone(acc: Acc): Acc {
    const c = new Acc(acc.values, acc.sums.slice(), acc.mins.slice(), acc.maxs.slice());
    c.count = acc.count;
    return c;
  }

  /** Each metric's name and JSON number text, exact to the scale (avg = sum / count rounded half to even). */
  results(acc: Acc): [name: string, text: string][] {
    return this.metrics.map(({ name, op, slot }) => {
      switch (op) {
        case 'count':
          return [name, String(acc.count)];
        case 'sum':
          return [name, formatScaled(acc.sums[slot]!, this.scale)];
        case 'avg':
          return [name, formatScaled(divideScaled(acc.sums[slot]!, acc.count), this.scale)];
        case 'min':
          return [name, String(acc.mins[slot])];
        case 'max':
          return [name, String(acc.maxs[slot])];
      }
    });
  }

  toJson(acc: Acc): AccJson {
    // JSON writes ±Infinity (an unused min or max slot) as null; fromJson maps it back.
    return [acc.values, acc.count, acc.sums.map(String), acc.mins, acc.maxs];
  }

  /** Rebuilds an Acc from a state file; throws on anything that does not fit this plan. */
  fromJson(json: unknown): Acc {
    const n = this.fields.length;
    if (!Array.isArray(json) || json.length !== 5) throw new Error('an accumulator is not a 5-element array');
    const [values, count, sums, mins, maxs] = json as AccJson;
    const sized = (a: unknown) => Array.isArray(a) && a.length === n;
    if (!Array.isArray(values) || !Number.isSafeInteger(count) || count < 1 || !sized(sums) || !sized(mins) || !sized(maxs)) {
      throw new Error('an accumulator does not match the configured metrics');
    }
    const num = (v: number | null, missing: number) => {
      if (v === null) return missing;
      if (typeof v !== 'number') throw new Error('a min or max is not a number');
      return v;
    };
    const acc = new Acc(values, sums.map(parseScaled), mins.map((v) => num(v, Infinity)), maxs.map((v) => num(v, -Infinity)));
    acc.count = count;
    return acc;
  }
}

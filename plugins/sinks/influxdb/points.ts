/**
 * Turns events into points for the `influxdb` sink: the measurement (fixed or from a field), the configured tags
 * and fields, and an explicit time for every point. An event that cannot become a point is refused here with a
 * reason and never sent.
 *
 * Every point carries a time, even without `timestampField` (then the time the event entered the agent): a
 * point the server receives twice (a redelivered batch, a half-written batch split to isolate a bad point)
 * overwrites itself in InfluxDB instead of becoming a second point, and points written without a time would all
 * get the same server time within one request, so points of one series would overwrite each other.
 */
import type { Event } from '../../../agent/index.ts';
import { escapeKey, escapeMeasurement, fieldValue, formatLine, PointError, seriesKey, tagValue } from './line-protocol.ts';
import { nanosTo, NANOS_PER, toEpochNanos, type Precision } from './timestamp.ts';

export interface PointSpec {
  measurement?: string;
  measurementField?: string;
  tags: readonly string[];
  fields: readonly string[];
  integerFields: readonly string[];
  timestampField?: string;
  precision: Precision;
  uniqueTimestamps: boolean;
}

export interface Point {
  readonly event: Event;
  /** One line of line protocol, without the trailing newline. */
  readonly line: string;
}

export interface Refused {
  event: Event;
  reason: string;
  detail: string;
}

/**
 * The times taken in one series of one batch. A point goes to the first free time at or after its own; `next`
 * remembers, per original time, where the previous search for it ended (every time before that is taken, and
 * taken only grows), so a second with a thousand transactions costs one probe per point, not a thousand, and no
 * string is built per probe. The result is the same as probing from the original time every time.
 */
class SeriesTimes {
  readonly taken = new Set<bigint>();
  readonly next = new Map<bigint, bigint>();

  claim(time: bigint): bigint {
    let t = this.next.get(time) ?? time;
    while (this.taken.has(t)) t++;
    this.taken.add(t);
    this.next.set(time, t + 1n);
    return t;
  }
}

export class PointBuilder {
  private readonly measurement: string | undefined;
  /** Tag names with their escaped keys, sorted by key as InfluxDB orders them. */
  private readonly tags: readonly (readonly [string, string])[];
  private readonly fields: readonly (readonly [string, string, boolean])[];

  constructor(private readonly spec: PointSpec) {
    this.measurement = spec.measurement === undefined ? undefined : escapeMeasurement(spec.measurement);
    this.tags = spec.tags.map((t) => [t, escapeKey(t, 'tag key')] as const).sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const integers = new Set(spec.integerFields);
    this.fields = spec.fields.map((f) => [f, escapeKey(f, 'field key'), integers.has(f)] as const);
  }

  /** The series key and line-protocol fields of one event, and its time in epoch nanoseconds. Throws PointError. */
  private parts(event: Event): { series: string; fields: [string, string][]; nanos: bigint } {
    let data: unknown;
    try {
      data = event.data;
    } catch (error) {
      throw new PointError('malformed-json', `the body is not JSON: ${(error as Error).message}`);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new PointError('not-an-object', 'the body is not a JSON object');
    let measurement = this.measurement;
    if (measurement === undefined) {
      const m = event.field(this.spec.measurementField!);
      if (typeof m !== 'string' || m === '') throw new PointError('invalid-measurement', `measurementField ${this.spec.measurementField} is ${m === undefined ? 'missing' : `${JSON.stringify(m)}, not a non-empty string`}`);
      measurement = escapeMeasurement(m);
    }
    const tags: [string, string][] = [];
    for (const [name, key] of this.tags) {
      const v = tagValue(name, event.field(name));
      if (v !== undefined) tags.push([key, v]);
    }
    const fields: [string, string][] = [];
    for (const [name, key, integer] of this.fields) {
      const v = fieldValue(name, event.field(name), integer);
      if (v !== undefined) fields.push([key, v]);
    }
    if (fields.length === 0) throw new PointError('no-fields', `none of the fields ${this.spec.fields.join(', ')} has a value`);
    return { series: seriesKey(measurement, tags), fields, nanos: this.nanos(event) };
  }

  private nanos(event: Event): bigint {
    const name = this.spec.timestampField;
    if (name === undefined) return BigInt(Math.trunc(event.ingestTime)) * NANOS_PER.ms;
    const value = event.field(name);
    if (value === undefined || value === null) throw new PointError('invalid-timestamp', `timestampField ${name} is missing`);
    const ns = toEpochNanos(value);
    if (ns === undefined) throw new PointError('invalid-timestamp', `timestampField ${name} is ${JSON.stringify(value).slice(0, 60)}, neither epoch seconds/milliseconds/microseconds/nanoseconds nor an ISO-8601 date-time`);
    return ns;
  }

  /** One event as a line (no batch context: no timestamp de-duplication). Throws PointError. */
  line(event: Event): string {
    const p = this.parts(event);
    return formatLine(p.series, p.fields, nanosTo(p.nanos, this.spec.precision));
  }

  /**
   * The points of a batch, and the events that cannot be points. With `uniqueTimestamps`, a point whose series
   * and time equal an earlier point's in the same batch is moved one unit of the precision later (repeatedly if
   * needed), so two transactions in the same city in the same millisecond stay two points instead of the second
   * overwriting the first. The move is the same when the same batch is redelivered.
   */
  build(events: readonly Event[]): { points: Point[]; refused: Refused[] } {
    const points: Point[] = [];
    const refused: Refused[] = [];
    const unique = this.spec.uniqueTimestamps ? new Map<string, SeriesTimes>() : undefined;
    for (const event of events) {
      let p: ReturnType<PointBuilder['parts']>;
      try {
        p = this.parts(event);
      } catch (error) {
        if (!(error instanceof PointError)) throw error;
        refused.push({ event, reason: error.reason, detail: error.message });
        continue;
      }
      let time = nanosTo(p.nanos, this.spec.precision);
      if (unique) {
        let times = unique.get(p.series);
        if (times === undefined) unique.set(p.series, (times = new SeriesTimes()));
        time = times.claim(time);
      }
      points.push({ event, line: formatLine(p.series, p.fields, time) });
    }
    return { points, refused };
  }
}

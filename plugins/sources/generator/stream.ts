/**
 * The generator's event sequence, apart from pacing and emitting: clean transactions from the seed, with planted
 * anomalies replacing the clean event of their slot. The source drives it batch by batch; tests and demos call
 * `generate` or `plantedGroups` to get the very same events, or the ground truth, without running a source.
 */
import { AgentError, ErrorCodes, Event } from '../../../agent/index.ts';
import { type AnomaliesConfig, PATTERNS, type Pattern, resolve } from './anomalies.ts';
import { type Planted, Planter, type PlanterState } from './planter.ts';
import { type PrngState, Sfc32 } from './prng.ts';
import type { SchemaName } from './schemas.ts';
import { type Shape, SHAPES } from './shapes.ts';

export interface GeneratorConfig {
  schema: SchemaName;
  rate: number;
  count: number;
  seed: number;
  batchSize: number;
  startTime?: string | number;
  anomalies?: AnomaliesConfig;
}

/** Epoch milliseconds of an ISO-8601 date-time or an epoch-milliseconds number (or string of digits). */
export function parseStartTime(value: string | number): number {
  const ms = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new AgentError(
      ErrorCodes.CONFIG_INVALID,
      `generator: startTime ${JSON.stringify(value)} is neither an ISO-8601 date-time (such as ` +
        `"2024-01-01T00:00:00Z") nor a whole number of epoch milliseconds.`,
    );
  }
  return ms;
}

export interface StreamState {
  readonly rng: PrngState;
  readonly position: number;
  readonly planter: PlanterState | undefined;
}

export class TransactionStream {
  private readonly rng: Sfc32;
  private readonly shape: Shape;
  private readonly planter: Planter | undefined;
  /** Events produced so far: the slot of the next event. */
  position = 0;

  constructor(config: Pick<GeneratorConfig, 'schema' | 'seed' | 'count' | 'anomalies'>) {
    this.rng = new Sfc32(config.seed);
    this.shape = SHAPES[config.schema];
    const anomalies = resolve(config.anomalies);
    if (Object.keys(anomalies).length > 0) {
      this.planter = new Planter(config.seed, this.shape, anomalies, config.count > 0 ? config.count : Number.POSITIVE_INFINITY);
    }
  }

  /** The next n events. Event k of the stream has time start + floor(k × stepMs), or `now` when start is unset. */
  batch(n: number, start: number | undefined, stepMs: number, now: number): Event[] {
    const out = new Array<Event>(n);
    const build = this.shape.build;
    const rng = this.rng;
    const planter = this.planter;
    let k = this.position;
    for (let i = 0; i < n; i++, k++) {
      const time = start === undefined ? now : start + Math.floor(k * stepMs);
      // The clean event is built either way: its draws keep every later clean slot independent of the anomalies.
      const clean = build(rng, time, now);
      out[i] = planter === undefined || k < planter.nextSlot ? clean : this.plant(planter.take(k), clean, now);
    }
    this.position = k;
    return out;
  }

  /** Planted events per pattern (in PATTERNS order) so far, and instances skipped at the MAX_PENDING bound. */
  planted(): { events: readonly number[]; skipped: number } {
    return { events: this.planter?.planted ?? [0, 0, 0, 0], skipped: this.planter?.skipped ?? 0 };
  }

  save(): StreamState {
    return { rng: this.rng.save(), position: this.position, planter: this.planter?.save() };
  }

  restore(state: StreamState): void {
    this.rng.restore(state.rng);
    this.position = state.position;
    if (state.planter) this.planter?.restore(state.planter);
  }

  private plant(planted: Planted | undefined, clean: Event, now: number): Event {
    if (planted === undefined) return clean;
    const data = this.shape.patch(clean.data, planted.patch);
    return new Event({ planted: PATTERNS[planted.pattern]!, plantedGroup: planted.group }, JSON.stringify(data), data, now);
  }
}

/**
 * Every event a finite generator with this config emits, in order (what the source emits, minus pacing). Without
 * startTime the times are the current time, as for one batch of the source.
 */
export function generate(config: Partial<GeneratorConfig> & { count: number }): Event[] {
  if (!(config.count > 0)) throw new AgentError(ErrorCodes.CONFIG_INVALID, 'generate: count must be at least 1.');
  const full = { schema: 'financial_transactions' as const, seed: 1, rate: 0, ...config };
  const start = full.startTime === undefined ? undefined : parseStartTime(full.startTime);
  const stream = new TransactionStream(full);
  return stream.batch(full.count, start, full.rate > 0 ? 1000 / full.rate : 1, Date.now());
}

export interface PlantedGroup {
  pattern: Pattern;
  /** The plantedGroup header value, such as "burst-3". */
  group: string;
  /** Positions of the group's events in the stream (0 = first event), ascending. */
  positions: number[];
  events: Event[];
}

/** The ground truth of a finite generator config: its planted instances in order of their first event. */
export function plantedGroups(config: Partial<GeneratorConfig> & { count: number }): PlantedGroup[] {
  const groups = new Map<string, PlantedGroup>();
  for (const [i, e] of generate(config).entries()) {
    const group = e.headers.plantedGroup;
    if (group === undefined) continue;
    let g = groups.get(group);
    if (!g) groups.set(group, (g = { pattern: e.headers.planted as Pattern, group, positions: [], events: [] }));
    g.positions.push(i);
    g.events.push(e);
  }
  return [...groups.values()];
}

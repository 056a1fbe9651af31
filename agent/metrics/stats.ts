/**
 * Per-component statistics. Runners update plain numbers once per batch; the Prometheus endpoint and the
 * Flume-compatible /status read them on demand. Every standard series exists (at zero) from the moment the
 * component is built, so dashboards and alerts see it before the first event.
 */
import type { ComponentKind, ComponentMetrics } from '../types.ts';
import { AGE_BUCKETS, DURATION_BUCKETS, Histogram } from './histogram.ts';

export interface StandardMetric {
  /** Prometheus name without the `fintrans_<kind>_` prefix. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** Flume's counter name in /status, when Flume has one. */
  flume?: string;
}

/** The standard metrics per kind: the one registry of names. */
export const STANDARD_METRICS: Record<ComponentKind, StandardMetric[]> = {
  source: [
    { name: 'events_received_total', help: 'Events read from the input, before processors.', type: 'counter', flume: 'EventReceivedCount' },
    { name: 'events_accepted_total', help: 'Events committed to the channels.', type: 'counter', flume: 'EventAcceptedCount' },
    { name: 'batches_received_total', help: 'Batches read from the input.', type: 'counter', flume: 'AppendBatchReceivedCount' },
    { name: 'batches_accepted_total', help: 'Batches committed to every required channel.', type: 'counter', flume: 'AppendBatchAcceptedCount' },
    { name: 'read_failures_total', help: 'Inputs that could not be read (bad lines, unreadable files).', type: 'counter', flume: 'EventReadFail' },
    { name: 'channel_write_failures_total', help: 'Batch puts that failed and were retried (channel full).', type: 'counter', flume: 'ChannelWriteFail' },
    { name: 'restarts_total', help: 'Times the source crashed and was restarted by the supervisor.', type: 'counter' },
  ],
  channel: [
    { name: 'size', help: 'Events in the channel (committed, not yet taken for good).', type: 'gauge', flume: 'ChannelSize' },
    { name: 'capacity', help: 'Maximum events the channel holds.', type: 'gauge', flume: 'ChannelCapacity' },
    { name: 'fill_ratio', help: 'size / capacity, 0 to 1.', type: 'gauge' },
    { name: 'put_attempts_total', help: 'Events offered to the channel.', type: 'counter', flume: 'EventPutAttemptCount' },
    { name: 'put_success_total', help: 'Events committed into the channel.', type: 'counter', flume: 'EventPutSuccessCount' },
    { name: 'take_attempts_total', help: 'Take calls, including empty ones.', type: 'counter', flume: 'EventTakeAttemptCount' },
    { name: 'take_success_total', help: 'Events taken and committed out of the channel.', type: 'counter', flume: 'EventTakeSuccessCount' },
  ],
  sink: [
    { name: 'events_drain_attempts_total', help: 'Events handed to the sink.', type: 'counter', flume: 'EventDrainAttemptCount' },
    { name: 'events_drained_total', help: 'Events the destination acknowledged.', type: 'counter', flume: 'EventDrainSuccessCount' },
    { name: 'batches_complete_total', help: 'Batches of exactly batchSize events.', type: 'counter', flume: 'BatchCompleteCount' },
    { name: 'batches_underflow_total', help: 'Batches of fewer than batchSize events.', type: 'counter', flume: 'BatchUnderflowCount' },
    { name: 'batches_empty_total', help: 'Takes that found the channel empty.', type: 'counter', flume: 'BatchEmptyCount' },
    { name: 'write_failures_total', help: 'Batches that failed and were rolled back.', type: 'counter', flume: 'EventWriteFail' },
    { name: 'rollbacks_total', help: 'Events rolled back to the channel for redelivery.', type: 'counter', flume: 'RollbackCount' },
  ],
  processor: [
    { name: 'events_in_total', help: 'Events given to the processor.', type: 'counter' },
    { name: 'events_out_total', help: 'Events the processor passed on.', type: 'counter' },
    { name: 'events_emitted_total', help: 'Derived events the processor emitted to channels.', type: 'counter' },
  ],
};

type Bag = { value: number };

export class ComponentStats implements ComponentMetrics {
  readonly counters = new Map<string, Bag>();
  readonly help = new Map<string, { help: string; type: 'counter' | 'gauge' }>();
  /** Labelled counters: metric name → label value → count. */
  readonly labelled = {
    errors: new Map<string, number>(),
    deadLetters: new Map<string, number>(),
    dropped: new Map<string, number>(),
  };
  readonly batchDuration = new Histogram(DURATION_BUCKETS);
  /** Plugin-defined histograms by name. */
  readonly histograms = new Map<string, { help: string; h: Histogram }>();
  readonly eventAge = new Histogram(AGE_BUCKETS);
  /** Live gauges read at scrape time (e.g. channel size). */
  readonly probes = new Map<string, () => number>();
  startTime = 0;
  stopTime = 0;
  /** completed: a finite source (a generator with a count) reached its end; counts as healthy. */
  state: 'created' | 'running' | 'completed' | 'stopped' | 'failed' = 'created';
  lastError: string | undefined;

  constructor(
    readonly agent: string,
    readonly name: string,
    readonly kind: ComponentKind,
    readonly type: string,
  ) {
    for (const m of STANDARD_METRICS[kind]) this.define(m.name, m.help, m.type);
  }

  private define(name: string, help: string, type: 'counter' | 'gauge'): Bag {
    let bag = this.counters.get(name);
    if (!bag) {
      bag = { value: 0 };
      this.counters.set(name, bag);
      this.help.set(name, { help, type });
    }
    return bag;
  }

  /** Adds n to a standard or plugin counter. */
  add(name: string, n = 1): void {
    const bag = this.counters.get(name);
    if (bag) bag.value += n;
    else {
      this.define(name, name, 'counter').value += n;
      this.onDefine?.(name, name, 'counter');
    }
  }

  /** Set by the registry so metrics defined after registration are exported too. */
  onDefine: ((name: string, help: string, type: 'counter' | 'gauge') => void) | undefined;

  get(name: string): number {
    const probe = this.probes.get(name);
    if (probe) return probe();
    return this.counters.get(name)?.value ?? 0;
  }

  error(stage: string, message: string): void {
    this.labelled.errors.set(stage, (this.labelled.errors.get(stage) ?? 0) + 1);
    this.lastError = message;
  }

  deadLettered(reason: string, n = 1): void {
    this.labelled.deadLetters.set(reason, (this.labelled.deadLetters.get(reason) ?? 0) + n);
  }

  droppedEvents(reason: string, n = 1): void {
    this.labelled.dropped.set(reason, (this.labelled.dropped.get(reason) ?? 0) + n);
  }

  counter(name: string, help: string) {
    const bag = this.define(name, help, 'counter');
    this.onDefine?.(name, help, 'counter');
    return {
      inc: (n = 1) => void (bag.value += n),
      get value() { return bag.value; },
    };
  }

  histogram(name: string, help: string, buckets: readonly number[] = DURATION_BUCKETS) {
    let entry = this.histograms.get(name);
    if (!entry) {
      entry = { help, h: new Histogram(buckets) };
      this.histograms.set(name, entry);
      this.onHistogram?.(name, help);
    }
    const h = entry.h;
    return { observe: (v: number) => h.observe(v) };
  }

  /** Set by the registry so histograms created after registration are exported too. */
  onHistogram: ((name: string, help: string) => void) | undefined;

  gauge(name: string, help: string) {
    const bag = this.define(name, help, 'gauge');
    this.onDefine?.(name, help, 'gauge');
    return {
      set: (v: number) => void (bag.value = v),
      inc: (n = 1) => void (bag.value += n),
      get value() { return bag.value; },
    };
  }
}

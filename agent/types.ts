/**
 * The public plugin contract. A plugin module's default export is a `PluginDefinition` (use `definePlugin`):
 * its kind, its type name, a JSON Schema for its configuration, and a factory that builds the running object from
 * the validated, frozen configuration. The framework owns lifecycle, retries, backoff and the standard metrics;
 * a plugin only moves data.
 */
import type { Logger } from 'pino';
import type { Event } from './event.ts';

export type ComponentKind = 'source' | 'channel' | 'sink' | 'processor';

/** A JSON Schema object (draft 2020-12 subset understood by ajv). Every property needs a `description`. */
export type JsonSchema = { [key: string]: unknown };

/** What every factory receives, whatever its kind. */
export interface ComponentContext {
  /** The agent's name (the key under `agents:`). */
  readonly agent: string;
  /** The component's name (its key in the config). */
  readonly name: string;
  readonly kind: ComponentKind;
  readonly type: string;
  /** A child logger already labelled with agent, component, kind and type. */
  readonly log: Logger;
  /** Directory of the configuration file, for resolving relative paths. */
  readonly configDir: string;
  /** Aborted when the agent stops. */
  readonly signal: AbortSignal;
  /** Extra counters or gauges for this component, exported with the standard labels. */
  readonly metrics: ComponentMetrics;
}

/** Plugin-defined metrics: named counters and gauges, exported as `fintrans_<kind>_<name>` with standard labels. */
export interface ComponentMetrics {
  counter(name: string, help: string): { inc(n?: number): void; readonly value: number };
  gauge(name: string, help: string): { set(v: number): void; inc(n?: number): void; readonly value: number };
  /** A histogram in seconds (e.g. fsync latency), exported as `fintrans_<kind>_<name>` with the standard labels. */
  histogram(name: string, help: string, buckets?: readonly number[]): { observe(seconds: number): void };
}

// ---------------------------------------------------------------- channels

/** A put transaction: events become visible to takers only when `commit` resolves. */
export interface PutTransaction {
  put(events: readonly Event[]): void;
  /** Waits (up to the channel's keepAlive) for room, makes the events durable per the channel's policy and visible. */
  commit(): Promise<void>;
  rollback(): void;
}

/** A take transaction: the events are hidden from other takers until `commit` removes or `rollback` returns them. */
export interface TakeTransaction {
  readonly events: readonly Event[];
  commit(): Promise<void>;
  /** Puts the events back at the head of the channel, in order, so they are redelivered first. */
  rollback(): Promise<void>;
}

export interface Channel {
  readonly capacity: number;
  readonly transactionCapacity: number;
  /** Events committed and not yet taken (including those in open take transactions). */
  size(): number;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  beginPut(): PutTransaction;
  /** Takes up to `max` events, waiting up to `waitMs` for the first one. Returns an empty transaction on timeout. */
  take(max: number, waitMs: number, signal?: AbortSignal): Promise<TakeTransaction>;
  /** Extra status fields for /status (e.g. disk usage of a durable channel). */
  status?(): Record<string, number>;
}

// ---------------------------------------------------------------- sources

export interface SourceRunContext extends ComponentContext {
  /**
   * Hands a batch to the pipeline: processors, then the selector, then one put transaction per channel.
   * Resolves once every required channel committed (the acknowledgement: only then may the source advance its
   * read position or commit offsets). Retries channel-full conditions with backoff by itself; rejects only
   * with a StoppingError when the agent stops first, in which case the batch is not acknowledged.
   */
  emit(events: Event[]): Promise<void>;
  /** Sends events the source could not turn into valid events (bad lines, undecodable records) to dead letters. */
  deadLetter(events: Event[], reason: string, detail?: string): void;
}

export interface Source {
  /** Runs until `ctx.signal` aborts or the input ends. A rejection is logged, counted and the source is restarted. */
  run(ctx: SourceRunContext): Promise<void>;
  /** Releases resources after `run` has returned. */
  close?(): Promise<void>;
}

// ---------------------------------------------------------------- sinks

/** What a sink reports about a batch it wrote. */
export interface WriteResult {
  /** Events the destination rejected permanently, with the destination's reason; they go to dead letters. */
  rejected?: { event: Event; reason: string; detail?: string }[];
}

export interface Sink {
  start?(): Promise<void>;
  /**
   * Writes one batch. Resolve only after the destination acknowledged it. Throw to roll the batch back (it is
   * redelivered after a backoff); set `retriable: false` on the error to send the whole batch to dead letters.
   */
  write(events: readonly Event[]): Promise<WriteResult | void>;
  /** Called when the channel had nothing for a while, so time-based rolls can happen without traffic. */
  idle?(): Promise<void>;
  /** Flushes and closes after the last write. */
  stop?(): Promise<void>;
}

// ---------------------------------------------------------------- processors

export interface ProcessContext extends ComponentContext {
  /** Emits derived events to named channels; within `process` they are committed together with the batch. */
  emitTo(channels: readonly string[], events: Event[]): void;
  /** Rejects one event permanently: it leaves the batch and goes to dead letters with the reason. */
  deadLetter(event: Event, reason: string, detail?: string): void;
}

export interface Processor {
  /** Transforms a batch; returns the events that continue (the same array may be returned). */
  process(events: Event[], ctx: ProcessContext): Event[] | Promise<Event[]>;
  /**
   * Called about once a second (`tickIntervalMs`) with the wall-clock time, so time-driven state (windows that close
   * on processing time, or after the input went quiet) is emitted without waiting for the next batch. Events
   * emitted here are put into the channels directly, outside any source's transaction. Never called while a
   * previous tick of the same processor is still running.
   */
  tick?(nowMs: number, ctx: ProcessContext): void | Promise<void>;
  /** Called on a graceful stop after the sources stopped: emit or persist open state. */
  stop?(ctx: ProcessContext): Promise<void>;
}

// ---------------------------------------------------------------- plugin definitions

export interface KindMap {
  source: Source;
  channel: Channel;
  sink: Sink;
  processor: Processor;
}

export interface PluginDefinition<K extends ComponentKind = ComponentKind, C = any> {
  kind: K;
  /** The name used in `type:`. Sources and sinks are nouns, processors verbs. */
  type: string;
  /** One line for the plugin reference. */
  description: string;
  /** JSON Schema of the plugin's own keys (the framework adds `type`, `channels`, `channel`, ...). */
  schema: JsonSchema;
  /** Keys whose values are secrets: redacted in logs, /status and `validate` output. */
  secrets?: readonly string[];
  /**
   * Cross-field rules the schema cannot express well. Runs at validation on the defaulted config; each problem is
   * reported at the named key of the component (or the component itself), like any schema error.
   */
  lint?(config: Readonly<C>): { key?: string; message: string }[];
  /** Builds the running component from validated, defaulted, frozen config. */
  create(config: Readonly<C>, ctx: ComponentContext): KindMap[K] | Promise<KindMap[K]>;
}

/** Identity helper that gives a plugin definition its types. */
export function definePlugin<K extends ComponentKind, C = any>(definition: PluginDefinition<K, C>): PluginDefinition<K, C> {
  return definition;
}

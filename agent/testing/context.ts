/**
 * Helpers for plugin unit tests: a real ComponentContext with a silent logger and live stats, so a plugin can be
 * built and driven without an agent.
 */
import type { Logger } from 'pino';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { ComponentStats } from '../metrics/stats.ts';
import type { ComponentContext, ComponentKind, ProcessContext, SourceRunContext } from '../types.ts';

export interface TestContext extends ComponentContext {
  readonly stats: ComponentStats;
  readonly controller: AbortController;
}

export function testContext(kind: ComponentKind, type: string, options: { name?: string; configDir?: string; log?: Logger } = {}): TestContext {
  const name = options.name ?? `test_${type}`;
  const stats = new ComponentStats('test', name, kind, type);
  const controller = new AbortController();
  return {
    agent: 'test',
    name,
    kind,
    type,
    log: options.log ?? silentLogger(),
    configDir: options.configDir ?? process.cwd(),
    signal: controller.signal,
    metrics: stats,
    stats,
    controller,
  };
}

export interface RecordingSourceContext extends SourceRunContext {
  readonly stats: ComponentStats;
  readonly controller: AbortController;
  /** Every acknowledged batch, in order. */
  readonly batches: Event[][];
  readonly deadLetters: { event: Event; reason: string; detail?: string }[];
  /** Makes the next n emits reject (as a stop would), to test that positions do not advance. */
  failNext(n: number): void;
  /** Emit calls so far, failed ones included. */
  readonly attempts: number;
}

/** A SourceRunContext whose emit records batches (optionally after a delay), for source unit tests. */
export function recordingSourceContext(type: string, options: { name?: string; configDir?: string; emitDelayMs?: number } = {}): RecordingSourceContext {
  const base = testContext('source', type, options);
  const batches: Event[][] = [];
  const deadLetters: RecordingSourceContext['deadLetters'] = [];
  let failures = 0;
  let attempts = 0;
  return {
    ...base,
    get attempts() {
      return attempts;
    },
    batches,
    deadLetters,
    failNext(n: number) {
      failures = n;
    },
    async emit(events: Event[]) {
      attempts++;
      if (options.emitDelayMs) await new Promise((r) => setTimeout(r, options.emitDelayMs));
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('emit failed (test)'), { retriable: true });
      }
      batches.push(events);
    },
    deadLetter(events: Event[], reason: string, detail?: string) {
      for (const event of events) deadLetters.push({ event, reason, detail });
    },
  };
}

export interface RecordingProcessContext extends ProcessContext {
  readonly stats: ComponentStats;
  readonly emitted: { channels: readonly string[]; events: Event[] }[];
  readonly deadLetters: { event: Event; reason: string; detail?: string }[];
}

export function recordingProcessContext(type: string, options: { name?: string; configDir?: string } = {}): RecordingProcessContext {
  const base = testContext('processor', type, options);
  const emitted: RecordingProcessContext['emitted'] = [];
  const deadLetters: RecordingProcessContext['deadLetters'] = [];
  return {
    ...base,
    emitted,
    deadLetters,
    emitTo(channels, events) {
      emitted.push({ channels, events });
    },
    deadLetter(event, reason, detail) {
      deadLetters.push({ event, reason, detail });
    },
  };
}

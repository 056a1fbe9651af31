/**
 * Windowed aggregation per key: sums, averages, extremes and counts per merchant (or any fields) per minute, as a
 * side output. The original events continue untouched; one result per (window, group) goes to `emitTo` when the
 * watermark passes the window's end, committed with the source batch that closed it.
 */
import { resolve } from 'node:path';
import { AgentError, ErrorCodes, type ProcessContext, definePlugin, durationSchema } from '../../agent/index.ts';
import { UTC, parseEventTime } from '../shared/event-time.ts';
import { type Acc, MetricPlan, OPS } from './aggregate/accumulators.ts';
import { type AggregateConfig, lintAggregate, timingOf } from './aggregate/config.ts';
import { MAX_SCALE } from './aggregate/decimal.ts';
import { resultEvent } from './aggregate/output.ts';
import { StateStore } from './aggregate/state-store.ts';
import { type Closed, Windows, type WindowsJson } from './aggregate/windows.ts';

export type { AggregateConfig } from './aggregate/config.ts';

const STATE_VERSION = 1;

function read(data: unknown, path: readonly string[]): unknown {
  let v: any = data;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[path[i]!];
  }
  return v;
}

/** Part of a group key: strings as they are, anything else tagged, so "5" and 5 stay distinct groups. */
const keyPart = (v: unknown) => (typeof v === 'string' ? v : `\u0002${JSON.stringify(v ?? null)}`);
const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
const show = (v: unknown) => (v === undefined ? 'missing' : `${JSON.stringify(v)?.slice(0, 100)} (${v === null ? 'null' : typeof v})`);

export default definePlugin<'processor', AggregateConfig>({
  kind: 'processor',
  type: 'aggregate',
  description: 'Aggregates events per key over tumbling or hopping time windows (exact sums, avg, min, max, count), emitting one result per window and key to channels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      groupBy: {
        description: 'Fields (dotted paths) whose values form the key; the result carries each under its path as written here. A missing field groups as null.',
        type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true,
      },
      window: {
        description: 'Epoch-aligned windows [start, end): tumbling (back to back, a 60s window starts on the minute) or hopping (size long, a new one every advance).',
        type: 'object', additionalProperties: false, required: ['type', 'size'],
        properties: {
          type: { description: '"tumbling" or "hopping".', enum: ['tumbling', 'hopping'] },
          size: durationSchema('Window length; for hopping windows a whole multiple of advance.', 's'),
          advance: durationSchema('Hopping windows only: the step between window starts, less than size and dividing it.', 's'),
        },
      },
      timeField: {
        description: 'Dotted path of the event time: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude, numbers or digit strings) or ISO-8601 (UTC when it has no offset). Unset: processing time (the clock when the batch is processed), and windows also close on the clock while no events arrive.',
        type: 'string', minLength: 1,
      },
      allowedLateness: durationSchema('How far behind the latest event time an event may be and still count: windows close when the latest event time minus this passes their end, and an event whose windows all closed goes to dead letters with reason "late".', 's', 0),
      metrics: {
        description: 'Output name → { op, field }: op is sum, avg, min, max (of a numeric field) or count (of events, no field). An event whose metric field is not a number goes to dead letters with reason "invalid-field" and is not counted.',
        type: 'object', minProperties: 1,
        additionalProperties: {
          description: 'One metric.',
          type: 'object', additionalProperties: false, required: ['op'],
          properties: {
            op: { description: 'sum, avg (sum / count rounded half to even to scale), min, max, or count.', enum: [...OPS] },
            field: { description: 'Dotted path of the numeric field (not for count).', type: 'string', minLength: 1 },
          },
        },
      },
      emitTo: {
        description: 'Channels that receive the results: {"windowStart", "windowEnd" (ISO-8601 UTC), the groupBy fields, the metrics, and "partial": true for a window closed before its end}.',
        type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true,
      },
      maxGroups: {
        description: 'Most open (window pane, group) states held; a new one beyond it first closes the windows with the oldest end early (emitted with partial: true, counted in windows_closed_early_total).',
        type: 'integer', minimum: 1, default: 100_000,
      },
      stateDir: {
        description: 'Directory (relative to the config file) where a graceful stop saves open windows and the watermark, loaded at the next start. Unset: a stop emits open windows with partial: true.',
        type: 'string', minLength: 1,
      },
      scale: {
        description: 'Decimal places of sums and averages (2 = cents): amounts are summed as exact integers of 10^-scale, each rounded half to even to this many places.',
        type: 'integer', minimum: 0, maximum: MAX_SCALE, default: 2,
      },
    },
    required: ['groupBy', 'window', 'metrics', 'emitTo'],
  },
  lint: lintAggregate,
  create(config, ctx) {
    const problems = lintAggregate(config);
    if (problems.length) throw new AgentError(ErrorCodes.CONFIG_INVALID, `aggregate: ${problems.map((p) => p.message).join(' ')}`);
    const { size, advance, lateness } = timingOf(config);
    const plan = new MetricPlan(config.metrics, config.scale);
    const windows = new Windows(size, advance, lateness, plan);
    const groupPaths = config.groupBy.map((g) => g.split('.'));
    const timePath = config.timeField?.split('.');
    const fieldPaths = plan.paths;
    const m = ctx.metrics;
    const lateTotal = m.counter('events_late_total', 'Events whose windows had all closed (dead-lettered, reason "late").');
    const noTimeTotal = m.counter('events_no_time_total', 'Events without a readable time field (dead-lettered, reason "no-time").');
    const invalidTotal = m.counter('events_invalid_field_total', 'Events whose metric field is not a number (dead-lettered, reason "invalid-field").');
    const emittedTotal = m.counter('windows_emitted_total', 'Results emitted, one per (window, group), partial ones included.');
    const earlyTotal = m.counter('windows_closed_early_total', 'Results emitted early (partial) because maxGroups was reached.');
    const corruptTotal = m.counter('state_files_corrupt_total', 'State files that could not be used and were moved aside.');
    const openGauge = m.gauge('open_groups', 'Open (window pane, group) states, bounded by maxGroups.');
    const signature = JSON.stringify({ size, advance, groupBy: config.groupBy, plan: plan.signature, eventTime: !!timePath });

    const store = config.stateDir ? new StateStore(resolve(ctx.configDir, config.stateDir), ctx.agent, ctx.name, ctx.log) : undefined;
    if (store) {
      const taken = store.take((json: any) => {
        if (json?.version !== STATE_VERSION || json.signature !== signature) throw new Error('written for another window, groupBy or metrics configuration');
        windows.restore(json.windows as WindowsJson);
        return windows.open;
      });
      if ('state' in taken) ctx.log.info({ file: store.file, openGroups: taken.state, watermarkTime: iso(windows.floor) }, 'Resumed open windows from the state file.');
      if ('quarantined' in taken) corruptTotal.inc();
    }
    openGauge.set(windows.open);

    function flush(closed: Closed[], pctx: ProcessContext): void {
      openGauge.set(windows.open);
      if (closed.length === 0) return;
      emittedTotal.inc(closed.length);
      pctx.emitTo(config.emitTo, closed.map((c) => resultEvent(c, config.groupBy, plan)));
    }

    return {
      process(events, pctx) {
        const closed: Closed[] = [];
        const now = timePath ? 0 : Date.now();
        const x = new Array<number>(fieldPaths.length);
        next: for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          let data: unknown;
          try {
            data = event.data;
          } catch {
            data = undefined;
          }
          let t = now;
          if (timePath) {
            const raw = read(data, timePath);
            const parsed = parseEventTime(raw, UTC);
            if (parsed === undefined) {
              noTimeTotal.inc();
              pctx.deadLetter(event.clone(), 'no-time', `time field "${config.timeField}" is ${show(raw)}, not epoch seconds/milliseconds or ISO-8601`);
              continue;
            }
            t = parsed;
          }
          const p = windows.paneOf(t);
          if (p <= windows.latePane) {
            lateTotal.inc();
            pctx.deadLetter(event.clone(), 'late', `event time ${iso(t)} is in windows that closed (watermark ${iso(windows.floor)})`);
            continue;
          }
          for (let j = 0; j < fieldPaths.length; j++) {
            const v = read(data, fieldPaths[j]!);
            if (typeof v !== 'number' || !Number.isFinite(v)) {
              invalidTotal.inc();
              pctx.deadLetter(event.clone(), 'invalid-field', `metric field "${plan.fields[j]}" is ${show(v)}, not a number`);
              continue next;
            }
            x[j] = v;
          }
          let key: string;
          if (groupPaths.length === 1) key = keyPart(read(data, groupPaths[0]!));
          else {
            key = keyPart(read(data, groupPaths[0]!));
            for (let g = 1; g < groupPaths.length; g++) key += `\u0001${keyPart(read(data, groupPaths[g]!))}`;
          }
          let groups = windows.pane(p);
          let acc: Acc | undefined = groups.get(key);
          if (!acc) {
            if (windows.open >= config.maxGroups) {
              while (windows.open >= config.maxGroups && windows.paneCount > 0) earlyTotal.inc(windows.closeOldest(closed));
              if (p <= windows.latePane) {
                lateTotal.inc();
                pctx.deadLetter(event.clone(), 'late', `event time ${iso(t)} is in windows closed early because maxGroups (${config.maxGroups}) was reached`);
                continue;
              }
              groups = windows.pane(p);
            }
            acc = plan.create(groupPaths.map((path) => read(data, path) ?? null));
            groups.set(key, acc);
            windows.open++;
          }
          plan.add(acc, x);
          windows.observe(t, closed);
        }
        flush(closed, pctx);
        return events;
      },
      // Event time moves only with events: a quiet input keeps its last windows open (no idle timeout), because
      // closing them on the clock would make a late-but-allowed event late after all.
      tick: timePath
        ? undefined
        : (nowMs, tctx) => {
            const closed: Closed[] = [];
            windows.observe(nowMs, closed);
            flush(closed, tctx);
          },
      async stop(sctx) {
        if (store) {
          store.save({ version: STATE_VERSION, signature, agent: ctx.agent, component: ctx.name, savedAt: new Date().toISOString(), windows: windows.toJson() });
          ctx.log.info({ file: store.file, openGroups: windows.open }, 'Saved open windows for the next start.');
          return;
        }
        const closed: Closed[] = [];
        windows.closeAll(closed);
        flush(closed, sctx);
      },
    };
  },
});

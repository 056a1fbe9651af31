/**
 * Synthetic financial transactions for demos, tests and benchmarks. The output is a pure function of the seed
 * (and of startTime and rate, which set the event times), so a benchmark or a failing pipeline can be replayed
 * byte for byte. A batch the pipeline did not acknowledge is generated again, identically, on the next run.
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { AgentError, ErrorCodes, type Event, definePlugin } from '../../agent/index.ts';
import { Sfc32 } from './generator/prng.ts';
import { BUILDERS, SCHEMA_NAMES, type SchemaName } from './generator/schemas.ts';

export interface GeneratorConfig {
  schema: SchemaName;
  rate: number;
  count: number;
  seed: number;
  batchSize: number;
  startTime?: string | number;
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

export default definePlugin<'source', GeneratorConfig>({
  kind: 'source',
  type: 'generator',
  description: 'Generates reproducible synthetic financial transactions (three shapes) at a set rate, for demos and benchmarks.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      schema: {
        description:
          'Transaction shape: "financial_transactions" (transactionId, userId, amount, transactionTime in epoch seconds, ' +
          'merchantId, ...), "finance" (the 16 fields of the Flume/Kafka Generator.py, transaction_date in ISO-8601) ' +
          'or "fintrans" (city, source and target account, amount, ts in epoch milliseconds).',
        enum: [...SCHEMA_NAMES],
        default: 'financial_transactions',
      },
      rate: {
        description:
          'Target average events per second; 0 generates as fast as the pipeline accepts. With a rate, batches are ' +
          'capped at rate / 10 events so output stays smooth at 100-millisecond granularity.',
        type: 'number',
        minimum: 0,
        default: 0,
      },
      count: {
        description: 'Events to generate before the source ends; 0 generates until the agent stops.',
        type: 'integer',
        minimum: 0,
        default: 0,
      },
      seed: {
        description: 'PRNG seed. The same seed (with the same startTime and rate) gives a byte-identical event sequence.',
        type: 'integer',
        default: 1,
      },
      batchSize: {
        description: 'Maximum events per batch handed to the pipeline.',
        type: 'integer',
        minimum: 1,
        default: 1000,
      },
      startTime: {
        description:
          'Time of the first event: an ISO-8601 date-time such as "2024-01-01T00:00:00Z", or epoch milliseconds. ' +
          'Event n then has time startTime + n × 1000 / rate milliseconds (1 millisecond apart when rate is 0), so ' +
          'times are reproducible too. Unset (the default): each event carries the wall-clock time of its batch, ' +
          'and only the non-time fields are reproducible from the seed.',
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'integer', minimum: 0 },
        ],
      },
    },
    required: [],
  },
  create(config) {
    const build = BUILDERS[config.schema];
    const start = config.startTime === undefined ? undefined : parseStartTime(config.startTime);
    const rate = config.rate;
    const stepMs = rate > 0 ? 1000 / rate : 1;
    // One batch of 1000 at 5 events/s would be a 200-second burst-then-silence; a tenth of a second's worth is
    // the largest batch that still looks like a steady stream.
    const maxBatch = rate > 0 ? Math.max(1, Math.min(config.batchSize, Math.floor(rate / 10))) : config.batchSize;
    // Kept across runs: after a restart the sequence continues rather than repeats.
    const rng = new Sfc32(config.seed);
    let produced = 0;

    return {
      async run(ctx) {
        const signal = ctx.signal;
        const began = performance.now();
        let sentThisRun = 0;
        while (!signal.aborted && (config.count === 0 || produced < config.count)) {
          const n = config.count === 0 ? maxBatch : Math.min(maxBatch, config.count - produced);
          const saved = rng.save();
          const now = Date.now();
          const batch = new Array<Event>(n);
          if (start === undefined) {
            for (let i = 0; i < n; i++) batch[i] = build(rng, now, now);
          } else {
            for (let i = 0; i < n; i++) batch[i] = build(rng, start + Math.floor((produced + i) * stepMs), now);
          }
          try {
            await ctx.emit(batch);
          } catch (error) {
            // Not acknowledged (the agent is stopping): rewind so the next run emits the very same events.
            rng.restore(saved);
            ctx.log.debug({ err: error }, 'Generator batch not acknowledged; stopping.');
            return;
          }
          produced += n;
          sentThisRun += n;
          if (rate > 0) {
            // Pacing against the run's start (not the previous batch) keeps the average exact despite timer jitter.
            const wait = began + (sentThisRun * 1000) / rate - performance.now();
            if (wait > 0) {
              await sleep(wait, undefined, { signal }).catch(() => undefined);
              continue;
            }
          }
          // emit can resolve without ever leaving the microtask queue; without this, timers and I/O (including
          // the stop signal) would starve while generating as fast as possible.
          await yieldToLoop();
        }
      },
    };
  },
});

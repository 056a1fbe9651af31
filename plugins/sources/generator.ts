/**
 * Synthetic financial transactions for demos, tests and benchmarks. The output is a pure function of the seed
 * (and of startTime and rate, which set the event times), so a benchmark or a failing pipeline can be replayed
 * byte for byte. A batch the pipeline did not acknowledge is generated again, identically, on the next run.
 * With `anomalies`, known fraud patterns are planted among the clean transactions (see generator/anomalies.ts).
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { type ComponentMetrics, definePlugin } from '../../agent/index.ts';
import { PATTERNS, anomaliesSchema, lintAnomalies } from './generator/anomalies.ts';
import { type GeneratorConfig, TransactionStream, parseStartTime } from './generator/stream.ts';
import { SCHEMA_NAMES } from './generator/schemas.ts';

export { type GeneratorConfig, type PlantedGroup, generate, parseStartTime, plantedGroups } from './generator/stream.ts';

const METRIC_OF: Record<(typeof PATTERNS)[number], string> = {
  burst: 'burst',
  largeAmount: 'large_amount',
  laundering: 'laundering',
  locationHop: 'location_hop',
};

/** Counters of planted events per pattern (and of skipped instances), fed with the stream's running totals. */
function plantedMetrics(metrics: ComponentMetrics): (totals: { events: readonly number[]; skipped: number }) => void {
  const events = PATTERNS.map((p) => metrics.counter(`planted_${METRIC_OF[p]}_events_total`, `Events planted as ${p} anomalies.`));
  const skipped = metrics.counter('planted_skipped_total', 'Planted instances not started because the bound on reserved planted events was reached.');
  const reported = { events: PATTERNS.map(() => 0), skipped: 0 };
  return (totals) => {
    for (const [p, counter] of events.entries()) counter.inc(totals.events[p]! - reported.events[p]!);
    skipped.inc(totals.skipped - reported.skipped);
    reported.events = [...totals.events];
    reported.skipped = totals.skipped;
  };
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
          'or "fintrans" (city, source and target account, amount, ts in epoch milliseconds). Clean data is built not ' +
          'to look like fraud: amounts stay below 10,000 and every user (finance: account) keeps one home location. ' +
          'By chance alone, more than 10 events of one user within 60 seconds of event time is expected less than ' +
          'once per 100 hours at 1000 events/s for financial_transactions (100,000 users; about 4 times per hour at ' +
          '2000/s) and practically never for finance (900,000 accounts) up to 5000/s. fintrans has 1000 accounts: a ' +
          'source-to-target pair summing over 8000 within an hour is expected less than once per 100 days up to ' +
          '250 events/s, but about 280 times per hour once 1000/s is sustained for an hour (runs under 15 minutes ' +
          'at 1000/s stay clean); and its source is no per-user key. Rate 0 with a startTime is 1000 events/s.',
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
      anomalies: anomaliesSchema,
    },
    required: [],
  },
  lint(config) {
    return lintAnomalies(config.schema, config.anomalies);
  },
  create(config, context) {
    const start = config.startTime === undefined ? undefined : parseStartTime(config.startTime);
    const rate = config.rate;
    const stepMs = rate > 0 ? 1000 / rate : 1;
    // One batch of 1000 at 5 events/s would be a 200-second burst-then-silence; a tenth of a second's worth is
    // the largest batch that still looks like a steady stream.
    const maxBatch = rate > 0 ? Math.max(1, Math.min(config.batchSize, Math.floor(rate / 10))) : config.batchSize;
    // Kept across runs: after a restart the sequence continues rather than repeats.
    const stream = new TransactionStream(config);
    const report = config.anomalies === undefined ? undefined : plantedMetrics(context.metrics);

    return {
      async run(ctx) {
        const signal = ctx.signal;
        const began = performance.now();
        let sentThisRun = 0;
        while (!signal.aborted && (config.count === 0 || stream.position < config.count)) {
          const n = config.count === 0 ? maxBatch : Math.min(maxBatch, config.count - stream.position);
          const saved = stream.save();
          const batch = stream.batch(n, start, stepMs, Date.now());
          try {
            await ctx.emit(batch);
          } catch (error) {
            // Not acknowledged (the agent is stopping): rewind so the next run emits the very same events.
            stream.restore(saved);
            ctx.log.debug({ err: error }, 'Generator batch not acknowledged; stopping.');
            return;
          }
          // Counted once acknowledged, so a rewound batch is not counted twice.
          report?.(stream.planted());
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

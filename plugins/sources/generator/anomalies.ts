/**
 * The `anomalies` setting of the generator: known fraud patterns planted at known rates, so a detection pipeline
 * can be checked precisely. Each pattern is shaped to trip one of the fraud rules of the demo configuration and
 * nothing else (a burst keeps its user's home location and clean amounts, a location hop has only a few events):
 *
 *   burst        > 10 events by one user within 60 s           (frequency, key userId, window 60s, threshold 10)
 *   largeAmount  amount > 10,000                                (threshold, gt 10000)
 *   laundering   > 8,000 between one account pair within 1 h   (pair-volume, window 1h, threshold 8000)
 *   locationHop  > 2 distinct locations of one user in 10 min  (distinct, window 10m, threshold 2)
 */
import type { JsonSchema } from '../../../agent/index.ts';
import type { SchemaName } from './schemas.ts';
import { SHAPES } from './shapes.ts';

export const PATTERNS = ['burst', 'largeAmount', 'laundering', 'locationHop'] as const;
export type Pattern = (typeof PATTERNS)[number];

export interface AnomaliesConfig {
  bursts?: { rate?: number; size?: number };
  largeAmounts?: { rate?: number; min?: number; max?: number };
  laundering?: { rate?: number; transfers?: number; total?: number };
  locationHops?: { rate?: number; locations?: number };
}

export const DEFAULTS = {
  rate: 0.001,
  size: 15,
  min: 20_000,
  max: 100_000,
  transfers: 10,
  total: 9000,
  locations: 4,
} as const;

/** Planted events may take at most this share of the stream; beyond it the clean stream is no longer the norm. */
export const MAX_PLANTED_SHARE = 0.5;

const rate = (what: string): JsonSchema => ({
  description: `Probability, per generated event, that ${what} starts there (0 to 1; ${DEFAULTS.rate} is about one per thousand events).`,
  type: 'number',
  minimum: 0,
  maximum: 1,
  default: DEFAULTS.rate,
});

const pattern = (description: string, properties: Record<string, JsonSchema>): JsonSchema => ({
  description,
  type: 'object',
  additionalProperties: false,
  properties,
});

export const anomaliesSchema: JsonSchema = {
  description:
    'Plants known fraud patterns among the clean transactions: bursts (many transactions by one user), ' +
    'largeAmounts, laundering (a chain of transfers between one account pair, fintrans only) and locationHops (one ' +
    'user in several locations, financial_transactions and finance only). Every planted event carries the headers ' +
    '`planted` (burst, largeAmount, laundering or locationHop) and `plantedGroup` (such as burst-3, shared by the ' +
    'events of one instance); clean events carry none. Every instance uses fresh users or accounts that no clean ' +
    'event uses (user_1000000 up; finance A000000 to A099999, reused after 100,000; fintrans accounts 1000 up), so ' +
    'the sums and counts of clean keys never include planted events. A planted event replaces the clean event of its slot, so count includes it; an instance that could not ' +
    'finish before count is not started. The stream stays reproducible from the seed. Unset: clean data only.',
  type: 'object',
  additionalProperties: false,
  properties: {
    bursts: pattern(
      'A fresh user makes `size` transactions in consecutive events (they meet a 60-second window when the ' +
        'event-time rate is above (size - 1) / 60 per second); key userId, account_id or (fintrans) source. On ' +
        'fintrans, clean sources alone exceed 10 transfers a minute above about 10 events/s, so bursts stand out ' +
        'only below that.',
      {
        rate: rate('a burst'),
        size: { description: 'Transactions per burst.', type: 'integer', minimum: 2, maximum: 1000, default: DEFAULTS.size },
      },
    ),
    largeAmounts: pattern('Single transactions by a fresh user (fintrans: between two fresh accounts) whose amount lies between min and max, above every clean amount. On fintrans such a transfer alone also exceeds a pair-volume threshold below its amount.', {
      rate: rate('a large amount'),
      min: { description: 'Smallest planted amount, in the currency unit; must exceed the largest clean amount of the schema.', type: 'number', exclusiveMinimum: 0, default: DEFAULTS.min },
      max: { description: 'Largest planted amount, in the currency unit.', type: 'number', exclusiveMinimum: 0, default: DEFAULTS.max },
    }),
    laundering: pattern(
      'Schema fintrans only: `transfers` transfers from one fresh account to another, interleaved with clean ' +
        'events 1 to 4 events apart, whose amounts sum to more than `total` (they fit in an hour of event time ' +
        'when the rate is above 4 × (transfers - 1) / 3600 per second).',
      {
        rate: rate('a laundering chain'),
        transfers: { description: 'Transfers per chain.', type: 'integer', minimum: 2, maximum: 1000, default: DEFAULTS.transfers },
        total: { description: 'The chain moves more than this, in whole currency units; each transfer carries about total / transfers.', type: 'number', exclusiveMinimum: 0, default: DEFAULTS.total },
      },
    ),
    locationHops: pattern(
      'Schemas financial_transactions (location) and finance (location_city) only: a fresh user transacts in ' +
        '`locations` different locations, 1 to 3 events apart.',
      {
        rate: rate('a location hop'),
        locations: { description: 'Distinct locations per hop (at most 999 for financial_transactions, 5 for finance).', type: 'integer', minimum: 2, maximum: 999, default: DEFAULTS.locations },
      },
    ),
  },
};

/** The settings with every default filled, and the patterns that are off (absent or rate 0) left out. */
export interface Resolved {
  bursts?: { rate: number; size: number };
  largeAmounts?: { rate: number; min: number; max: number };
  laundering?: { rate: number; transfers: number; total: number };
  locationHops?: { rate: number; locations: number };
}

/** Fills defaults in code too, so a config that did not pass through the schema (a direct create) still works. */
export function resolve(a: AnomaliesConfig | undefined): Resolved {
  const out: Resolved = {};
  const on = (p: { rate?: number } | undefined) => p !== undefined && (p.rate ?? DEFAULTS.rate) > 0;
  if (on(a?.bursts)) out.bursts = { rate: a!.bursts!.rate ?? DEFAULTS.rate, size: a!.bursts!.size ?? DEFAULTS.size };
  if (on(a?.largeAmounts)) {
    const p = a!.largeAmounts!;
    out.largeAmounts = { rate: p.rate ?? DEFAULTS.rate, min: p.min ?? DEFAULTS.min, max: p.max ?? DEFAULTS.max };
  }
  if (on(a?.laundering)) {
    const p = a!.laundering!;
    out.laundering = { rate: p.rate ?? DEFAULTS.rate, transfers: p.transfers ?? DEFAULTS.transfers, total: p.total ?? DEFAULTS.total };
  }
  if (on(a?.locationHops)) out.locationHops = { rate: a!.locationHops!.rate ?? DEFAULTS.rate, locations: a!.locationHops!.locations ?? DEFAULTS.locations };
  return out;
}

/** Pattern/schema combinations that cannot work, each with the fix. */
export function lintAnomalies(schema: SchemaName, anomalies: AnomaliesConfig | undefined): { key: string; message: string }[] {
  if (anomalies === undefined) return [];
  const a = resolve(anomalies);
  const shape = SHAPES[schema];
  const problems: { key: string; message: string }[] = [];
  if (a.laundering && !shape.pairFields) {
    problems.push({ key: 'anomalies.laundering', message: `laundering needs source and target accounts, which only schema "fintrans" has (schema is "${schema}"): use schema fintrans or remove laundering.` });
  }
  if (a.locationHops && !shape.locationField) {
    problems.push({ key: 'anomalies.locationHops', message: `locationHops needs a per-user location, which schema "${schema}" does not have: use schema financial_transactions (location) or finance (location_city), or remove locationHops.` });
  } else if (a.locationHops && a.locationHops.locations > shape.locations) {
    problems.push({ key: 'anomalies.locationHops.locations', message: `schema "${schema}" has only ${shape.locations} locations; set locations to at most ${shape.locations}.` });
  }
  if (a.largeAmounts) {
    const { min, max } = a.largeAmounts;
    if (min <= shape.cleanMaxAmount) problems.push({ key: 'anomalies.largeAmounts.min', message: `min must exceed ${shape.cleanMaxAmount}, the largest clean amount of schema "${schema}", so planted amounts stand apart.` });
    if (max < min) problems.push({ key: 'anomalies.largeAmounts.max', message: `max (${max}) is below min (${min}); raise max.` });
    if (shape.wholeAmounts && Math.floor(max) < Math.ceil(min)) problems.push({ key: 'anomalies.largeAmounts', message: `schema "${schema}" has whole amounts; put a whole number between min and max.` });
  }
  const share = plantedShare(a);
  if (share > MAX_PLANTED_SHARE) {
    problems.push({ key: 'anomalies', message: `the rates plant about ${Math.round(share * 100)}% of all events (rate × events per instance, summed); lower the rates so planted events stay at most ${MAX_PLANTED_SHARE * 100}%.` });
  }
  return problems;
}

/** Expected share of the stream taken by planted events. */
export function plantedShare(a: Resolved): number {
  return (
    (a.bursts ? a.bursts.rate * a.bursts.size : 0) + (a.largeAmounts?.rate ?? 0) +
    (a.laundering ? a.laundering.rate * a.laundering.transfers : 0) + (a.locationHops ? a.locationHops.rate * a.locationHops.locations : 0)
  );
}

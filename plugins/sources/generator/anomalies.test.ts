import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import jsonSchema from '../../processors/json-schema.ts';
import generator, { type GeneratorConfig, generate, plantedGroups } from '../generator.ts';
import type { AnomaliesConfig } from './anomalies.ts';
import type { SchemaName } from './schemas.ts';

const START = '2024-01-01T00:00:00Z';
const ALL: AnomaliesConfig = { bursts: {}, largeAmounts: {}, locationHops: {} };
const FINTRANS_ALL: AnomaliesConfig = { bursts: {}, largeAmounts: {}, laundering: {} };

function configOf(partial: Partial<GeneratorConfig>): GeneratorConfig {
  const config = structuredClone(partial) as Record<string, unknown>;
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(generator.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return config as unknown as GeneratorConfig;
}

const lint = (partial: Partial<GeneratorConfig>) => generator.lint!(configOf(partial));

// ------------------------------------------------ the four fraud rules, as plain code

type Rule = 'frequency' | 'threshold' | 'pair-volume' | 'distinct';
/** The patterns each rule may fire on: one transfer above 8000 is also more than 8000 on its pair. */
const PATTERNS_OF: Record<Rule, string[]> = { frequency: ['burst'], threshold: ['largeAmount'], 'pair-volume': ['laundering', 'largeAmount'], distinct: ['locationHop'] };

const FIELDS: Record<SchemaName, { time: (d: any) => number; user?: string; location?: string; pair?: [string, string] }> = {
  financial_transactions: { time: (d) => d.transactionTime * 1000, user: 'userId', location: 'location' },
  finance: { time: (d) => Date.parse(d.transaction_date), user: 'account_id', location: 'location_city' },
  fintrans: { time: (d) => d.ts, pair: ['source', 'target'] },
};

/** Indexes of the events at which each rule fires (> threshold over the trailing window ending at the event). */
function detect(schema: SchemaName, events: readonly Event[]): { rule: Rule; index: number }[] {
  const f = FIELDS[schema];
  const alarms: { rule: Rule; index: number }[] = [];
  const perUser = new Map<string, number[]>();
  const places = new Map<string, { t: number; where: string }[]>();
  const pairs = new Map<string, { t: number; amount: number }[]>();
  for (const [index, e] of events.entries()) {
    const d = e.data;
    const t = f.time(d);
    if (d.amount > 10000) alarms.push({ rule: 'threshold', index });
    if (f.user) {
      const times = (perUser.get(d[f.user]) ?? []).filter((x) => x > t - 60_000);
      times.push(t);
      perUser.set(d[f.user], times);
      if (times.length > 10) alarms.push({ rule: 'frequency', index });
      const seen = (places.get(d[f.user]) ?? []).filter((x) => x.t > t - 600_000);
      seen.push({ t, where: d[f.location!] });
      places.set(d[f.user], seen);
      if (new Set(seen.map((x) => x.where)).size > 2) alarms.push({ rule: 'distinct', index });
    }
    if (f.pair) {
      const key = `${d[f.pair[0]]}->${d[f.pair[1]]}`;
      const list = (pairs.get(key) ?? []).filter((x) => x.t > t - 3_600_000);
      list.push({ t, amount: d.amount });
      pairs.set(key, list);
      if (list.reduce((s, x) => s + x.amount, 0) > 8000) alarms.push({ rule: 'pair-volume', index });
    }
  }
  return alarms;
}

// ------------------------------------------------ tests

describe('anomalies settings', () => {
  test('every nested key is described, and a pattern given as {} gets the defaults', () => {
    const walk = (schema: any, path: string) => {
      for (const [key, prop] of Object.entries<any>(schema.properties ?? {})) {
        expect(typeof prop.description === 'string' && prop.description.length > 10, `${path}${key}`).toBe(true);
        walk(prop, `${path}${key}.`);
      }
    };
    walk(generator.schema, '');
    const config = configOf({ schema: 'fintrans', anomalies: { bursts: {}, largeAmounts: {}, laundering: {} } });
    expect(config.anomalies).toEqual({
      bursts: { rate: 0.001, size: 15 }, largeAmounts: { rate: 0.001, min: 20000, max: 100000 }, laundering: { rate: 0.001, transfers: 10, total: 9000 },
    });
    expect(() => configOf({ anomalies: { bursts: { rate: 2 } } })).toThrow();
    expect(() => configOf({ anomalies: { spikes: {} } as never })).toThrow();
  });

  test('lint rejects patterns the schema cannot carry, and says which schema can', () => {
    expect(lint({ anomalies: { laundering: {} } })).toEqual([{ key: 'anomalies.laundering', message: expect.stringMatching(/only schema "fintrans"/) }]);
    expect(lint({ schema: 'finance', anomalies: { laundering: {} } })[0]!.message).toMatch(/schema is "finance"/);
    expect(lint({ schema: 'fintrans', anomalies: { locationHops: {} } })).toEqual([
      { key: 'anomalies.locationHops', message: expect.stringMatching(/financial_transactions \(location\) or finance \(location_city\)/) },
    ]);
    expect(lint({ schema: 'finance', anomalies: { locationHops: { locations: 6 } } })).toEqual([{ key: 'anomalies.locationHops.locations', message: expect.stringMatching(/only 5 locations/) }]);
    expect(lint({ anomalies: { largeAmounts: { min: 9000 } } })[0]).toEqual({ key: 'anomalies.largeAmounts.min', message: expect.stringMatching(/exceed 9999.99/) });
    expect(lint({ anomalies: { largeAmounts: { min: 50000, max: 30000 } } })[0]!.key).toBe('anomalies.largeAmounts.max');
    expect(lint({ anomalies: { bursts: { rate: 0.05, size: 15 } } })[0]).toEqual({ key: 'anomalies', message: expect.stringMatching(/about 75% of all events/) });
    // Valid combinations, and a pattern switched off with rate 0, pass.
    expect(lint({ anomalies: ALL })).toEqual([]);
    expect(lint({ schema: 'finance', anomalies: { ...ALL, locationHops: { locations: 5 } } })).toEqual([]);
    expect(lint({ schema: 'fintrans', anomalies: { ...FINTRANS_ALL, locationHops: { rate: 0 } } })).toEqual([]);
    expect(lint({})).toEqual([]);
  });
});

describe('planted patterns', () => {
  test('rate 0.001 over 200,000 events plants about 200 instances of each pattern, each complete', () => {
    for (const [schema, anomalies] of [['financial_transactions', ALL], ['fintrans', FINTRANS_ALL]] as const) {
      const groups = plantedGroups({ schema, anomalies, count: 200_000, seed: 4, startTime: START });
      const sizes: Record<string, number> = { burst: 15, largeAmount: 1, laundering: 10, locationHop: 4 };
      const count: Record<string, number> = {};
      for (const g of groups) {
        count[g.pattern] = (count[g.pattern] ?? 0) + 1;
        expect(g.positions, g.group).toHaveLength(sizes[g.pattern]!);
        expect(g.group).toMatch(new RegExp(`^${g.pattern}-\\d+$`));
        for (const e of g.events) expect(e.headers).toEqual({ planted: g.pattern, plantedGroup: g.group });
      }
      for (const pattern of Object.keys(anomalies).map((k) => ({ bursts: 'burst', largeAmounts: 'largeAmount', laundering: 'laundering', locationHops: 'locationHop' })[k]!)) {
        expect(count[pattern], `${schema} ${pattern}`).toBeGreaterThan(150);
        expect(count[pattern], `${schema} ${pattern}`).toBeLessThan(250);
      }
    }
  });

  test('each instance meets its rule by construction and trips nothing else', () => {
    for (const [schema, anomalies, rate] of [
      ['financial_transactions', ALL, 0], ['financial_transactions', ALL, 1], ['finance', { ...ALL, locationHops: { locations: 5 } }, 20], ['fintrans', FINTRANS_ALL, 0], ['fintrans', FINTRANS_ALL, 5],
    ] as const) {
      const f = FIELDS[schema];
      const groups = plantedGroups({ schema, anomalies, rate, count: 30_000, seed: 8, startTime: START });
      expect(groups.length).toBeGreaterThan(40);
      for (const g of groups) {
        const data = g.events.map((e) => e.data);
        const times = data.map(f.time);
        const span = Math.max(...times) - Math.min(...times);
        const users = new Set(data.map((d) => d[f.user ?? 'source']));
        const amounts = data.map((d) => d.amount as number);
        const label = `${schema}@${rate} ${g.group}`;
        if (g.pattern === 'burst') {
          expect(users.size, label).toBe(1);
          expect(data.length > 10 && span < 60_000, label).toBe(true);
          if (f.location) expect(new Set(data.map((d) => d[f.location!])).size, label).toBe(1);
          expect(Math.max(...amounts), label).toBeLessThan(10_000);
        } else if (g.pattern === 'largeAmount') {
          expect(amounts[0]! >= 20_000 && amounts[0]! <= 100_000, label).toBe(true);
        } else if (g.pattern === 'laundering') {
          expect(new Set(data.map((d) => `${d.source}->${d.target}`)).size, label).toBe(1);
          expect(amounts.reduce((a, b) => a + b, 0), label).toBeGreaterThan(9000);
          expect(Math.max(...amounts), label).toBeLessThanOrEqual(1000);
          expect(span, label).toBeLessThan(3_600_000);
        } else {
          expect(users.size, label).toBe(1);
          expect(new Set(data.map((d) => d[f.location!])).size, label).toBe(schema === 'finance' ? 5 : 4);
          expect(span, label).toBeLessThan(600_000);
        }
      }
    }
  });

  test('planted users and accounts are fresh, and planted events stay valid against conf/schemas', async () => {
    const conf = fileURLToPath(new URL('../../../conf/', import.meta.url));
    for (const [schema, anomalies] of [['financial_transactions', ALL], ['finance', ALL], ['fintrans', FINTRANS_ALL]] as const) {
      const events = generate({ schema, anomalies: { ...anomalies, bursts: { rate: 0.003 } }, count: 20_000, seed: 2, startTime: START });
      const planted = events.filter((e) => e.headers.planted !== undefined);
      const fresh = planted.map((e) => e.data);
      expect(fresh.length).toBeGreaterThan(100);
      for (const d of fresh) {
        if (schema === 'financial_transactions') expect(d.userId).toMatch(/^user_1\d{6}$/); // clean users are user_1 to user_100000
        if (schema === 'finance') expect(d.account_id).toMatch(/^A0\d{5}$/); // clean accounts are A100000 to A999999
        if (schema === 'fintrans') expect(Number(d.source)).toBeGreaterThanOrEqual(1000); // clean accounts are 0 to 999
        if (schema === 'fintrans' && d.amount > 1000) expect(Number(d.target)).toBeGreaterThanOrEqual(1000);
      }
      for (const e of planted) expect(e.text).toBe(JSON.stringify(e.data));
      const ctx = recordingProcessContext('json-schema', { configDir: conf });
      const validator = await jsonSchema.create({ schemaFile: `schemas/${schema}.schema.json`, allErrors: true }, ctx);
      const out = await validator.process(planted.map((e) => Event.fromText(e.text)), ctx);
      expect(ctx.deadLetters.map((d) => d.detail)).toEqual([]);
      expect(out).toHaveLength(planted.length);
    }
  });
});

describe('detection against the issue rules', () => {
  // 300,000 events at 1000 events/s of event time (rate 0 with a startTime spaces them 1 ms apart): five minutes.
  for (const schema of ['financial_transactions', 'finance', 'fintrans'] as const) {
    test(`${schema}: clean data trips no rule`, () => {
      const events = generate({ schema, count: 300_000, seed: 12, startTime: START });
      expect(detect(schema, events)).toEqual([]);
    });
  }

  test('with anomalies, every alarm is on a planted event of the matching pattern and every instance is caught', () => {
    // No bursts on fintrans here: its thousand clean sources each exceed 10 transfers a minute at this rate anyway.
    const fintrans: AnomaliesConfig = { largeAmounts: {}, laundering: {} };
    for (const [schema, anomalies] of [['financial_transactions', ALL], ['finance', ALL], ['fintrans', fintrans]] as const) {
      const events = generate({ schema, anomalies, count: 100_000, seed: 5, startTime: START });
      const alarms = detect(schema, events);
      const caught = new Set<string>();
      for (const { rule, index } of alarms) {
        expect(PATTERNS_OF[rule], `${schema} ${rule} at ${index}`).toContain(events[index]!.headers.planted);
        if (PATTERNS_OF[rule][0] === events[index]!.headers.planted) caught.add(events[index]!.headers.plantedGroup!);
      }
      const groups = new Set(events.map((e) => e.headers.plantedGroup).filter((g) => g !== undefined));
      expect(groups.size).toBeGreaterThan(150);
      expect([...groups].filter((g) => !caught.has(g))).toEqual([]);
    }
  });
});

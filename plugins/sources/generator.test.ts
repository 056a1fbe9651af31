import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import type { Event, Source } from '../../agent/index.ts';
import { recordingSourceContext } from '../../agent/testing/context.ts';
import generator, { type GeneratorConfig, parseStartTime } from './generator.ts';
import { centsText } from './generator/schemas.ts';

const START = '2024-01-01T00:00:00Z';
const START_MS = Date.parse(START);

/** The config as the framework would hand it over: validated, with the schema's defaults filled in. */
function configOf(partial: Partial<GeneratorConfig>): GeneratorConfig {
  const config = structuredClone(partial) as Record<string, unknown>;
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(generator.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as unknown as GeneratorConfig;
}

async function build(partial: Partial<GeneratorConfig>): Promise<Source> {
  return generator.create(configOf(partial), recordingSourceContext('generator'));
}

/** Runs a finite generator to its end and returns every event text in order. */
async function texts(partial: Partial<GeneratorConfig>): Promise<string[]> {
  const ctx = recordingSourceContext('generator');
  await (await build(partial)).run(ctx);
  return ctx.batches.flat().map((e) => e.text);
}

async function events(partial: Partial<GeneratorConfig>): Promise<Event[]> {
  const ctx = recordingSourceContext('generator');
  await (await build(partial)).run(ctx);
  return ctx.batches.flat();
}

describe('generator schema', () => {
  test('describes every key and fills the documented defaults', () => {
    const props = generator.schema.properties as Record<string, Record<string, unknown>>;
    for (const [key, prop] of Object.entries(props)) expect(prop.description, key).toBeTypeOf('string');
    expect(generator.schema.additionalProperties).toBe(false);
    expect(configOf({})).toEqual({ schema: 'financial_transactions', rate: 0, count: 0, seed: 1, batchSize: 1000 });
  });

  test('rejects unknown keys and a batch size below 1', () => {
    expect(() => configOf({ batchSize: 0 })).toThrow();
    expect(() => configOf({ nope: 1 } as never)).toThrow();
  });
});

describe('generator determinism', () => {
  test('the same seed gives a byte-identical sequence, whatever the batch size', async () => {
    const a = await texts({ seed: 42, count: 2500, startTime: START });
    const b = await texts({ seed: 42, count: 2500, startTime: START, batchSize: 7 });
    expect(a).toHaveLength(2500);
    expect(b).toEqual(a);
  });

  test('different seeds give different sequences', async () => {
    const a = await texts({ seed: 1, count: 100, startTime: START });
    const b = await texts({ seed: 2, count: 100, startTime: START });
    expect(a.filter((t, i) => t === b[i])).toHaveLength(0);
  });

  test('without startTime only the times follow the clock; the rest is still reproducible', async () => {
    const strip = (list: Event[]) => list.map((e) => ({ ...e.data, transactionTime: 0 }));
    const a = await events({ seed: 9, count: 300 });
    const b = await events({ seed: 9, count: 300 });
    expect(strip(a)).toEqual(strip(b));
    const nowSeconds = Date.now() / 1000;
    expect(Math.abs(a[0]!.data.transactionTime - nowSeconds)).toBeLessThan(60);
  });

  test('accepts epoch milliseconds as startTime and rejects nonsense', () => {
    expect(parseStartTime(START_MS)).toBe(START_MS);
    expect(parseStartTime(String(START_MS))).toBe(START_MS);
    expect(parseStartTime(START)).toBe(START_MS);
    expect(() => parseStartTime('yesterday')).toThrow(/startTime "yesterday"/);
    expect(() => generator.create(configOf({ startTime: 'soon' }), recordingSourceContext('generator'))).toThrow(/ISO-8601/);
  });

  test('formats every amount exactly as JSON does', () => {
    for (let cents = 0; cents < 1_100_000; cents++) if (centsText(cents) !== String(cents / 100)) expect(centsText(cents)).toBe(String(cents / 100));
  });
});

describe('generator count and stopping', () => {
  test('emits exactly count events in batches of at most batchSize, then ends', async () => {
    const ctx = recordingSourceContext('generator');
    await (await build({ count: 2345, batchSize: 1000 })).run(ctx);
    expect(ctx.batches.map((b) => b.length)).toEqual([1000, 1000, 345]);
  });

  test('stops when the signal aborts', async () => {
    const ctx = recordingSourceContext('generator');
    const source = await build({});
    setTimeout(() => ctx.controller.abort(), 50);
    await source.run(ctx);
    expect(ctx.batches.length).toBeGreaterThan(0);
    const seen = ctx.batches.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(ctx.batches.length).toBe(seen);
  });

  test('returns when emit rejects, and the next run re-emits the unacknowledged batch identically', async () => {
    const expected = await texts({ seed: 5, count: 30, batchSize: 10, startTime: START });
    const ctx = recordingSourceContext('generator');
    const source = await build({ seed: 5, count: 30, batchSize: 10, startTime: START });
    ctx.failNext(1);
    await source.run(ctx);
    expect(ctx.batches).toHaveLength(0);
    await source.run(ctx);
    expect(ctx.batches.flat().map((e) => e.text)).toEqual(expected);
  });

  test('paces to the rate without bursting a whole batchSize at once', async () => {
    const rate = 400;
    const ctx = recordingSourceContext('generator');
    const source = await build({ rate, batchSize: 1000 });
    const began = performance.now();
    setTimeout(() => ctx.controller.abort(), 300);
    await source.run(ctx);
    const elapsedSeconds = (performance.now() - began) / 1000;
    const total = ctx.batches.flat().length;
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(rate * elapsedSeconds + 1000);
    for (const batch of ctx.batches) expect(batch.length).toBeLessThanOrEqual(rate / 10);
  });

  test('with a rate and a startTime, times advance by 1000 / rate milliseconds per event', async () => {
    const list = await events({ schema: 'fintrans', rate: 40, count: 5, startTime: START });
    expect(list.map((e) => e.data.ts - START_MS)).toEqual([0, 25, 50, 75, 100]);
    const slow = await events({ schema: 'fintrans', count: 3, startTime: START });
    expect(slow.map((e) => e.data.ts)).toEqual([START_MS, START_MS + 1, START_MS + 2]);
  });
});

describe('generator shapes', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const twoDecimals = (n: number) => Number.isFinite(n) && Math.round(n * 100) / 100 === n;

  test('every shape keeps its text equal to the JSON of its data', async () => {
    for (const schema of ['financial_transactions', 'finance', 'fintrans'] as const) {
      for (const e of await events({ schema, count: 500, startTime: START })) {
        expect(e.hasData).toBe(true);
        expect(e.text).toBe(JSON.stringify(e.data));
        expect(e.headers).toEqual({});
      }
    }
  });

  test('financial_transactions', async () => {
    const list = await events({ count: 500, startTime: START, seed: 3 });
    for (const [i, e] of list.entries()) {
      const d = e.data;
      expect(Object.keys(d)).toEqual(['transactionId', 'userId', 'amount', 'transactionTime', 'merchantId', 'transactionType', 'location', 'paymentMethod', 'isInternational', 'currency']);
      expect(d.transactionId).toMatch(UUID);
      expect(d.userId).toMatch(/^user_\d+$/);
      expect(twoDecimals(d.amount) && d.amount > 0 && d.amount < 10_000).toBe(true);
      expect(d.transactionTime).toBe(Math.floor((START_MS + i) / 1000));
      expect(d.merchantId).toMatch(/^merchant_\d+$/);
      expect(['purchase', 'refund']).toContain(d.transactionType);
      expect(d.location).toMatch(/^location_\d+$/);
      expect(['credit_card', 'paypal', 'bank_transfer']).toContain(d.paymentMethod);
      expect(d.isInternational).toBeTypeOf('boolean');
      expect(d.currency).toMatch(/^[A-Z]{3}$/);
    }
    expect(new Set(list.map((e) => e.data.transactionId)).size).toBe(list.length);
    expect(new Set(list.map((e) => e.data.transactionType))).toEqual(new Set(['purchase', 'refund']));
  });

  test('each user (finance: account) keeps one home location, and clean amounts stay below 10,000', async () => {
    for (const [schema, user, place] of [['financial_transactions', 'userId', 'location'], ['finance', 'account_id', 'location_city']] as const) {
      const home = new Map<string, string>();
      let repeats = 0;
      const moved: string[] = [];
      let maxAmount = 0;
      for (const e of await events({ schema, count: 100_000, seed: 7, startTime: START })) {
        const d = e.data;
        const known = home.get(d[user]);
        if (known !== undefined) repeats++;
        if (known !== undefined && known !== d[place]) moved.push(d[user]);
        home.set(d[user], d[place]);
        maxAmount = Math.max(maxAmount, d.amount);
      }
      expect(moved).toEqual([]);
      expect(repeats).toBeGreaterThan(2000);
      expect(maxAmount).toBeLessThan(10_000);
      // Homes spread over the locations rather than piling onto a few.
      expect(new Set(home.values()).size).toBe(schema === 'finance' ? 5 : 999);
    }
  });

  test('finance', async () => {
    const country: Record<string, string> = { 'New York': 'USA', 'San Francisco': 'USA', London: 'UK', Tokyo: 'Japan', Berlin: 'Germany' };
    const list = await events({ schema: 'finance', count: 500, startTime: START });
    for (const [i, e] of list.entries()) {
      const d = e.data;
      expect(Object.keys(d)).toHaveLength(16);
      expect(d.transaction_id).toMatch(/^T\d{6}$/);
      expect(d.account_id).toMatch(/^A\d{6}$/);
      expect(['deposit', 'withdrawal', 'transfer', 'payment']).toContain(d.transaction_type);
      expect(d.amount >= 100 && d.amount <= 5000 && twoDecimals(d.amount)).toBe(true);
      expect(['USD', 'EUR', 'JPY', 'GBP']).toContain(d.currency);
      expect(d.transaction_date).toBe(new Date(START_MS + i).toISOString());
      expect(d.description).toBe(`${d.transaction_type[0].toUpperCase()}${d.transaction_type.slice(1)} of ${d.amount} ${d.currency}`);
      expect(['Main Street', 'Second Avenue', 'Third Boulevard', 'Fourth Square']).toContain(d.branch);
      expect(Number.isInteger(d.customer_age) && d.customer_age >= 18 && d.customer_age <= 80).toBe(true);
      expect(['Male', 'Female', 'Other']).toContain(d.customer_gender);
      expect(d.account_balance >= 1000 && d.account_balance <= 50000 && twoDecimals(d.account_balance)).toBe(true);
      expect(['online', 'ATM', 'branch', 'mobile']).toContain(d.transaction_channel);
      expect(['completed', 'pending', 'failed']).toContain(d.transaction_status);
      if (d.transaction_type === 'payment' || d.transaction_type === 'transfer') expect(d.merchant_id).toMatch(/^M\d{4}$/);
      else expect(d.merchant_id).toBeNull();
      expect(d.location_country).toBe(country[d.location_city]);
    }
  });

  test('fintrans', async () => {
    const list = await events({ schema: 'fintrans', count: 500, startTime: START_MS });
    for (const [i, e] of list.entries()) {
      const d = e.data;
      expect(Object.keys(d)).toEqual(['city', 'source', 'target', 'amount', 'ts']);
      expect(['London', 'NYC', 'SF', 'Moscow', 'Tokyo']).toContain(d.city);
      expect(d.source).toMatch(/^\d{1,3}$/);
      expect(d.target).toMatch(/^\d{1,3}$/);
      expect(Number.isInteger(d.amount) && d.amount > 0).toBe(true);
      expect(d.ts).toBe(START_MS + i);
    }
  });
});

/**
 * The fraud processor on the generator's planted anomalies: every planted instance is found by its rule exactly
 * once, and nothing else is reported (the clean transactions around them stay quiet).
 */
import { describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import type { Event } from '../../../agent/index.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import { generate, plantedGroups } from '../../sources/generator.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const validate = compile(componentSchema('processor', fraud.schema));

async function run(config: object, events: Event[]): Promise<Record<string, any>[]> {
  const full = { type: 'fraud', emitTo: ['anomalies'], ...config };
  if (!validate(full)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(full) as unknown as FraudConfig, ctx);
  for (let i = 0; i < events.length; i += 1000) await processor.process(events.slice(i, i + 1000), ctx);
  return ctx.emitted.flatMap((e) => e.events.map((a) => a.data as Record<string, any>));
}

const ids = (events: Event[], field: string) => events.map((e) => (e.data as Record<string, string>)[field]!);

describe('fraud rules on planted anomalies', () => {
  test('financial_transactions: each burst, hop and large amount is reported once by its rule, nothing else', async () => {
    const gen = { schema: 'financial_transactions' as const, count: 150_000, seed: 5, rate: 200, startTime: '2024-01-01T00:00:00Z', anomalies: { bursts: { rate: 0.0003, size: 15 }, largeAmounts: { rate: 0.0003 }, locationHops: { rate: 0.0003, locations: 4 } } };
    const groups = plantedGroups(gen);
    const anomalies = await run({
      timeField: 'transactionTime',
      rules: [
        { id: 'high-frequency', type: 'frequency', key: 'userId', window: '60s', threshold: 10 },
        { id: 'big-ticket', type: 'threshold', field: 'amount', gt: 10000 },
        { id: 'impossible-travel', type: 'distinct', key: 'userId', field: 'location', window: '10m', threshold: 2 },
      ],
    }, generate(gen));
    const of = (pattern: string) => groups.filter((g) => g.pattern === pattern);
    expect(of('burst').length).toBeGreaterThan(10);
    expect(of('locationHop').length).toBeGreaterThan(10);
    expect(of('largeAmount').length).toBeGreaterThan(10);
    const fired = (rule: string) => anomalies.filter((a) => a.ruleId === rule);
    expect(fired('high-frequency').map((a) => a.keys.userId).sort()).toEqual(of('burst').map((g) => ids(g.events, 'userId')[0]).sort());
    expect(fired('impossible-travel').map((a) => a.keys.userId).sort()).toEqual(of('locationHop').map((g) => ids(g.events, 'userId')[0]).sort());
    expect(fired('big-ticket').flatMap((a) => a.transactionIds).sort()).toEqual(of('largeAmount').flatMap((g) => ids(g.events, 'transactionId')).sort());
    // The ids a burst's anomaly lists are that burst's transactions.
    for (const a of fired('high-frequency')) {
      const burst = of('burst').find((g) => ids(g.events, 'userId')[0] === a.keys.userId)!;
      const own = new Set(ids(burst.events, 'transactionId'));
      expect(a.transactionIds.length).toBe(11);
      for (const id of a.transactionIds) expect(own.has(id)).toBe(true);
    }
    expect(anomalies.length).toBe(of('burst').length + of('locationHop').length + of('largeAmount').length);
  });

  test('fintrans: each planted laundering chain is reported once, with the seed\'s pair, nothing else', async () => {
    const gen = { schema: 'fintrans' as const, count: 100_000, seed: 3, rate: 50, startTime: '2024-01-01T00:00:00Z', anomalies: { laundering: { rate: 0.0005 } } };
    const chains = plantedGroups(gen).filter((g) => g.pattern === 'laundering');
    expect(chains.length).toBeGreaterThan(10);
    const anomalies = await run({ timeField: 'ts', rules: [{ id: 'laundering', type: 'pair-volume', from: 'source', to: 'target', field: 'amount', window: '1h', threshold: 8000 }] }, generate(gen));
    const pair = (d: Record<string, unknown>) => `${d.source}->${d.target}`;
    expect(anomalies.map((a) => pair(a.keys)).sort()).toEqual(chains.map((g) => pair(g.events[0]!.data as Record<string, unknown>)).sort());
    for (const a of anomalies) expect(a.value).toBeGreaterThan(8000);
  });
});

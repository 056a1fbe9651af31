/**
 * The fraud processor on the generator's data: clean transactions trip none of the velocity and laundering
 * rules, and a real in-process agent (generator → fraud → channels → sinks) delivers every anomaly and flag.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { compile } from '../../../agent/config/ajv.ts';
import { componentSchema } from '../../../agent/config/schemas.ts';
import type { Event, PluginDefinition } from '../../../agent/index.ts';
import { TestAgents, componentStats, waitFor } from '../../../agent/testing/agents.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import { Sfc32 } from '../../sources/generator/prng.ts';
import { BUILDERS, type SchemaName } from '../../sources/generator/schemas.ts';
import fraud, { type FraudConfig } from '../fraud.ts';

const T0 = Date.UTC(2024, 0, 1);
const validate = compile(componentSchema('processor', fraud.schema));

async function processorOf(partial: object) {
  const config = { type: 'fraud', ...structuredClone(partial) };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(Object.freeze(config) as unknown as FraudConfig, ctx);
  const anomalies = () => ctx.emitted.flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>));
  return { ctx, processor, anomalies };
}

const HIGH_FREQUENCY = { id: 'high-frequency', type: 'frequency', key: 'userId', window: '60s', threshold: 10 };
const LAUNDERING = { id: 'laundering', type: 'pair-volume', from: 'source', to: 'target', field: 'amount', window: '1h', threshold: 8000 };

/** `n` clean events of a generator schema with event times `stepMs` apart from T0, as the generator makes them. */
function generated(schema: SchemaName, n: number, stepMs: number, seed = 1): Event[] {
  const rng = new Sfc32(seed);
  const build = BUILDERS[schema];
  return Array.from({ length: n }, (_, i) => build(rng, T0 + Math.floor(i * stepMs), 0));
}

describe('fraud on clean generator data', () => {
  // 200,000 events at 100 events/s of event time (about 33 minutes): the velocity and laundering
  // thresholds must stay quiet on data with nothing planted in it.
  const N = 200_000;
  const STEP_MS = 10;

  test('financial_transactions: high-frequency, big-ticket and impossible-travel report nothing', async () => {
    // Clean users keep a home location and amounts stay below 10,000, so the other two issue rules are quiet too.
    const rules = [HIGH_FREQUENCY, { id: 'big-ticket', type: 'threshold', field: 'amount', gt: 10000 }, { id: 'impossible-travel', type: 'distinct', key: 'userId', field: 'location', window: '10m', threshold: 2 }];
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['x'], timeField: 'transactionTime', rules });
    const events = generated('financial_transactions', N, STEP_MS);
    for (let i = 0; i < N; i += 1000) processor.process(events.slice(i, i + 1000), ctx);
    expect(anomalies()).toEqual([]);
    expect(ctx.stats.get('rule_skips_total') + ctx.stats.get('events_without_time_total')).toBe(0);
    expect(ctx.stats.get('keys_tracked')).toBeGreaterThan(1000); // the rule did look at the users
  });

  test('finance: high-frequency per account reports nothing', async () => {
    const rule = { ...HIGH_FREQUENCY, key: 'account_id' };
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['x'], timeField: 'transaction_date', idField: 'transaction_id', rules: [rule] });
    const events = generated('finance', N, STEP_MS);
    for (let i = 0; i < N; i += 1000) processor.process(events.slice(i, i + 1000), ctx);
    expect(anomalies()).toEqual([]);
    expect(ctx.stats.get('rule_skips_total') + ctx.stats.get('events_without_time_total')).toBe(0);
  });

  test('fintrans: laundering per account pair reports nothing', async () => {
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['x'], timeField: 'ts', rules: [LAUNDERING] });
    const events = generated('fintrans', N, STEP_MS);
    for (let i = 0; i < N; i += 1000) processor.process(events.slice(i, i + 1000), ctx);
    expect(anomalies()).toEqual([]);
    expect(ctx.stats.get('rule_skips_total') + ctx.stats.get('events_without_time_total')).toBe(0);
    expect(ctx.stats.get('keys_tracked')).toBeGreaterThan(100_000);
  });
});

describe('fraud in a running agent', () => {
  const agents = new TestAgents();
  afterAll(() => agents.stopAll());

  const received = new Map<string, Event[]>();
  const collector: PluginDefinition<'sink'> = {
    kind: 'sink',
    type: 'collector',
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 500, description: 'Events per take.' } } },
    create: (_config, ctx) => {
      const list: Event[] = [];
      received.set(ctx.name, list);
      return { write: async (events) => void list.push(...events) };
    },
  };

  test('generator → fraud → anomalies channel → sink delivers every anomaly, and flags the events', async () => {
    const rules = [
      { id: 'big-ticket', type: 'threshold', field: 'amount', gt: 9900 },
      { id: 'busy-merchant', type: 'frequency', key: 'merchantId', window: '2s', threshold: 6 },
    ];
    const COUNT = 20_000;
    // The same events through a processor outside the agent give the expected anomalies.
    const offline = await processorOf({ emitTo: ['x'], timeField: 'transactionTime', rules });
    const events = generated('financial_transactions', COUNT, 1, 7);
    for (let i = 0; i < COUNT; i += 1000) offline.processor.process(events.slice(i, i + 1000), offline.ctx);
    const withoutClock = (a: Record<string, unknown>): Record<string, unknown> => ({ ...a, detectedAt: undefined });
    const want = offline.anomalies().map(withoutClock);
    expect(new Set(want.map((a) => a.ruleId))).toEqual(new Set(['big-ticket', 'busy-merchant']));

    const agent = await agents.start(
      `agents:
  a:
    sources:
      gen: { type: generator, schema: financial_transactions, seed: 7, count: ${COUNT}, startTime: ${T0}, channels: [main], processors: [fraud] }
    processors:
      fraud: { type: fraud, emitTo: [anomalies], annotate: true, timeField: transactionTime, rules: ${JSON.stringify(rules)} }
    channels:
      main: { type: memory, capacity: 50000, transactionCapacity: 1000 }
      anomalies: { type: memory, capacity: 50000, transactionCapacity: 1000 }
    sinks:
      out: { type: collector, channel: main }
      alerts: { type: collector, channel: anomalies }
`,
      [collector],
    );
    await waitFor('all events and anomalies delivered', () => received.get('out')?.length === COUNT && received.get('alerts')?.length === want.length);
    const got = received.get('alerts')!;
    expect(got.map((e) => withoutClock(JSON.parse(e.text)))).toEqual(want);
    expect(got.every((e) => e.headers.ruleId === (e.data as { ruleId: string }).ruleId)).toBe(true);
    // Each anomaly's firing event is flagged in the main stream, and no other event is.
    const flagged = received.get('out')!.filter((e) => e.headers.fraudFlags !== undefined);
    const firing = new Map<string, string[]>();
    for (const a of want) {
      const id = (a.transactionIds as string[]).at(-1)!;
      firing.set(id, [...(firing.get(id) ?? []), a.ruleId as string]);
    }
    expect(new Map(flagged.map((e) => [e.data.transactionId as string, e.data.fraudFlags as string[]]))).toEqual(firing);
    expect(componentStats(agent, 'fraud').get('anomalies_total')).toBe(want.length);
    await agents.stopAll();
  });
});

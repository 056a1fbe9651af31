/**
 * The aggregate processor in a real agent: generator (deterministic event times) → aggregate → channel →
 * collecting sink, checked against sums computed independently from the same generated events.
 */
import { afterEach, expect, test } from 'vitest';
import type { Event, PluginDefinition } from '../../../agent/index.ts';
import { TestAgents, componentStats, waitFor } from '../../../agent/testing/agents.ts';
import { recordingSourceContext } from '../../../agent/testing/context.ts';
import generator, { type GeneratorConfig } from '../../sources/generator.ts';

const agents = new TestAgents();
afterEach(() => agents.stopAll());

function collector(received: Event[]): PluginDefinition<'sink'> {
  return {
    kind: 'sink',
    type: 'collector',
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 100, description: 'Events per take.' } } },
    create: () => ({ write: async (events) => void received.push(...events) }),
  };
}

const START = '2024-01-01T00:00:00Z';
const COUNT = 30_000; // 1 ms apart: 30 s of event time, three 10 s windows

test('generator → aggregate → channel → sink: every window and merchant matches an independent computation', async () => {
  const received: Event[] = [];
  const agent = await agents.start(
    `agents:
  a:
    sources:
      gen: { type: generator, count: ${COUNT}, seed: 11, startTime: "${START}", batchSize: 500, channels: [main], processors: [per_merchant] }
    processors:
      per_merchant:
        type: aggregate
        groupBy: [merchantId]
        window: { type: tumbling, size: 10s }
        timeField: transactionTime
        metrics:
          totalAmount: { op: sum, field: amount }
          maxAmount: { op: max, field: amount }
          txCount: { op: count }
        emitTo: [agg]
    channels:
      main: { type: memory, capacity: 100000, transactionCapacity: 1000 }
      agg: { type: memory, capacity: 100000, transactionCapacity: 1000 }
    sinks:
      drop: { type: "null", channel: main }
      out: { type: collector, channel: agg }
`,
    [collector(received)],
  );
  await waitFor('the generator to finish', () => componentStats(agent, 'gen', 'source').state === 'completed');
  await waitFor('the two windows the watermark closed', () => received.length > 0 && received.every((e) => !e.data.partial) && componentStats(agent, 'out', 'sink').get('events_drained_total') === componentStats(agent, 'per_merchant').get('windows_emitted_total'));
  await agent.stop(); // the last window is still open: the stop emits it as partial

  // Independently: the same events straight from the generator, summed in integer cents.
  const ctx = recordingSourceContext('generator');
  const config: GeneratorConfig = { schema: 'financial_transactions', rate: 0, count: COUNT, seed: 11, batchSize: 500, startTime: START };
  await (await generator.create(config, ctx)).run(ctx);
  const expected = new Map<string, { cents: number; max: number; n: number }>();
  for (const e of ctx.batches.flat()) {
    const d = e.data as { transactionTime: number; merchantId: string; amount: number };
    const start = Math.floor((d.transactionTime * 1000) / 10_000) * 10_000;
    const id = `${new Date(start).toISOString()}|${d.merchantId}`;
    const x = expected.get(id) ?? { cents: 0, max: -Infinity, n: 0 };
    x.cents += Math.round(d.amount * 100);
    x.max = Math.max(x.max, d.amount);
    x.n++;
    expected.set(id, x);
  }

  const got = new Map<string, { total: number; max: number; n: number }>();
  const partialStarts = new Set<string>();
  for (const e of received) {
    const r = e.data as { windowStart: string; windowEnd: string; merchantId: string; totalAmount: number; maxAmount: number; txCount: number; partial?: true };
    const id = `${r.windowStart}|${r.merchantId}`;
    expect(got.has(id), `${id} emitted twice`).toBe(false);
    expect(Date.parse(r.windowEnd) - Date.parse(r.windowStart)).toBe(10_000);
    got.set(id, { total: r.totalAmount, max: r.maxAmount, n: r.txCount });
    if (r.partial) partialStarts.add(r.windowStart);
  }
  expect(got.size).toBe(expected.size);
  // The emitted total is the very number the exact cent sum prints as (no 0.30000000000000004).
  expect(got).toEqual(new Map([...expected].map(([id, x]) => [id, { total: x.cents / 100, max: x.max, n: x.n }])));
  expect([...partialStarts]).toEqual(['2024-01-01T00:00:20.000Z']);
  expect([...got.values()].reduce((s, x) => s + x.n, 0)).toBe(COUNT);
  expect(componentStats(agent, 'gen', 'source').get('events_accepted_total')).toBe(COUNT); // originals passed through
});

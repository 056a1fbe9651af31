import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { TestAgents } from '../../../agent/testing/agents.ts';
import { recordingProcessContext } from '../../../agent/testing/context.ts';
import aggregate from '../aggregate.ts';
import { type AggregateConfig, formatDuration, lintAggregate, timingOf } from './config.ts';

const validator = new Ajv({ useDefaults: true, strict: false, allowUnionTypes: true }).compile(aggregate.schema);

function configOf(partial: Record<string, unknown>): AggregateConfig {
  const config = structuredClone({ groupBy: ['merchantId'], metrics: { n: { op: 'count' } }, emitTo: ['agg'], ...partial });
  if (!validator(config)) throw new Error(JSON.stringify(validator.errors));
  return Object.freeze(config) as unknown as AggregateConfig;
}
const messages = (partial: Record<string, unknown>) => lintAggregate(configOf(partial)).map((p) => `${p.key}: ${p.message}`);

describe('aggregate config', () => {
  test('the contract example validates, lints clean and gets its defaults', () => {
    const config = configOf({
      window: { type: 'hopping', size: '1h', advance: '1m' },
      timeField: 'transactionTime',
      allowedLateness: '5s',
      metrics: { totalAmount: { op: 'sum', field: 'amount' }, avgAmount: { op: 'avg', field: 'amount' }, maxAmount: { op: 'max', field: 'amount' }, txCount: { op: 'count' } },
      stateDir: './state',
    });
    expect(lintAggregate(config)).toEqual([]);
    expect(config.maxGroups).toBe(100_000);
    expect(config.scale).toBe(2);
    expect(timingOf(config)).toEqual({ size: 3_600_000, advance: 60_000, lateness: 5_000 });
    expect(timingOf(configOf({ window: { type: 'tumbling', size: 60 } }))).toEqual({ size: 60_000, advance: 60_000, lateness: 0 });
  });

  test('a hopping size that is not a multiple of advance names advances that would work', () => {
    expect(messages({ window: { type: 'hopping', size: '1h', advance: '7m' } })).toEqual([
      'window: window.size (1h) must be a whole multiple of window.advance (7m): use an advance that divides the size, such as "6m" or "10m", or a size of "63m".',
    ]);
    expect(messages({ window: { type: 'hopping', size: '1s', advance: '300ms' } })[0]).toMatch(/such as "250ms" or "500ms", or a size of "1200ms"/);
  });

  test('advance must be set for hopping, below size, and absent for tumbling', () => {
    expect(messages({ window: { type: 'hopping', size: '10m' } })).toEqual(['window: hopping windows need window.advance, the step between window starts (such as "1m").']);
    expect(messages({ window: { type: 'hopping', size: '10m', advance: '10m' } })[0]).toMatch(/must be less than window.size \(10m\); for windows that do not overlap use type: tumbling/);
    expect(messages({ window: { type: 'tumbling', size: '10m', advance: '1m' } })[0]).toMatch(/applies to hopping windows only/);
    expect(messages({ window: { type: 'tumbling', size: 0 } })[0]).toMatch(/whole number of milliseconds above 0/);
    expect(messages({ window: { type: 'tumbling', size: '0.0001s' } })[0]).toMatch(/whole number of milliseconds/);
  });

  test('metrics: field required except for count, names must not collide with output keys', () => {
    expect(messages({ window: { type: 'tumbling', size: '1m' }, metrics: { total: { op: 'sum' } } })).toEqual(['metrics: metrics.total: sum needs field, the dotted path of a numeric field such as "amount".']);
    expect(messages({ window: { type: 'tumbling', size: '1m' }, metrics: { n: { op: 'count', field: 'id' } } })[0]).toMatch(/count counts events and takes no field/);
    expect(messages({ window: { type: 'tumbling', size: '1m' }, metrics: { windowEnd: { op: 'count' }, merchantId: { op: 'count' } } })).toEqual([
      'metrics: metrics.windowEnd: the name is taken by the window output in the emitted event; choose another name.',
      'metrics: metrics.merchantId: the name is taken by a groupBy field in the emitted event; choose another name.',
    ]);
    expect(messages({ window: { type: 'tumbling', size: '1m' }, groupBy: ['partial'] })[0]).toMatch(/groupBy field "partial" collides/);
  });

  test('the schema refuses what it can express', () => {
    const ok = { groupBy: ['m'], window: { type: 'tumbling', size: '1m' }, metrics: { n: { op: 'count' } }, emitTo: ['c'] };
    expect(validator(structuredClone(ok))).toBe(true);
    expect(validator({ ...ok, groupBy: [] })).toBe(false);
    expect(validator({ ...ok, emitTo: [] })).toBe(false);
    expect(validator({ ...ok, metrics: {} })).toBe(false);
    expect(validator({ ...ok, metrics: { x: { op: 'median', field: 'a' } } })).toBe(false);
    expect(validator({ ...ok, window: { type: 'sliding', size: '1m' } })).toBe(false);
    expect(validator({ ...ok, window: { type: 'tumbling', size: '1 minute' } })).toBe(false);
    expect(validator({ ...ok, maxGroups: 0 })).toBe(false);
    expect(validator({ ...ok, scale: 13 })).toBe(false);
    expect(validator({ ...ok, unknown: 1 })).toBe(false);
  });

  test('an agent config is refused at validation with the problem at the processor key', async () => {
    const agents = new TestAgents();
    const start = agents.start(`agents:
  a:
    sources:
      gen: { type: generator, count: 1, channels: [main], processors: [hourly] }
    processors:
      hourly: { type: aggregate, groupBy: [merchantId], window: { type: hopping, size: 1h, advance: 7m }, metrics: { total: { op: sum } }, emitTo: [agg] }
    channels:
      main: { type: memory }
      agg: { type: memory }
    sinks:
      drop: { type: "null", channel: main }
      agg: { type: "null", channel: agg }
`);
    await expect(start).rejects.toThrow(/agents\.a\.processors\.hourly\.window.*must be a whole multiple of window\.advance \(7m\)/s);
    await expect(start).rejects.toThrow(/hourly\.metrics.*sum needs field/s);
    await agents.stopAll();
  });

  test('create refuses a config that fails lint, saying how to fix it', () => {
    const config = configOf({ window: { type: 'hopping', size: '1h', advance: '7m' } });
    expect(() => aggregate.create(config, recordingProcessContext('aggregate'))).toThrow(/aggregate: window.size \(1h\) must be a whole multiple/);
  });

  test('durations print in their largest whole unit', () => {
    expect([3_600_000, 90_000, 86_400_000, 1500, 0].map(formatDuration)).toEqual(['1h', '90s', '1d', '1500ms', '0ms']);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compile } from '../../agent/config/ajv.ts';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError, formatProblem } from '../../agent/config/problems.ts';
import { componentSchema } from '../../agent/config/schemas.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { Event } from '../../agent/index.ts';
import { recordingProcessContext } from '../../agent/testing/context.ts';
import fraud, { type FraudConfig } from './fraud.ts';

const T0 = Date.UTC(2024, 0, 1);
const validate = compile(componentSchema('processor', fraud.schema));

function configOf(partial: object): FraudConfig {
  const config = { type: 'fraud', ...structuredClone(partial) };
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as unknown as FraudConfig;
}

async function processorOf(partial: object) {
  const ctx = recordingProcessContext('fraud');
  const processor = await fraud.create(configOf(partial), ctx);
  const anomalies = () => ctx.emitted.flatMap((e) => e.events.map((a) => a.data as Record<string, unknown>));
  return { ctx, processor, anomalies };
}

/** The issue's example rules. */
const ISSUE_RULES = [
  { id: 'high-frequency', type: 'frequency', key: 'userId', window: '60s', threshold: 10 },
  { id: 'big-ticket', type: 'threshold', field: 'amount', gt: 10000 },
  { id: 'laundering', type: 'pair-volume', from: 'source', to: 'target', field: 'amount', window: '1h', threshold: 8000 },
  { id: 'impossible-travel', type: 'distinct', key: 'userId', field: 'location', window: '10m', threshold: 2 },
  { id: 'intl-large', type: 'expression', when: 'isInternational && amount > 3000' },
];

describe('fraud annotation and pass-through', () => {
  const json = (body: object, headers = {}) => Event.fromText(JSON.stringify(body), headers);

  test('flags only the event that made a rule fire; every event passes through', async () => {
    const { ctx, processor } = await processorOf({
      emitTo: ['anomalies'],
      annotate: true,
      timeField: 'ts',
      rules: [
        { id: 'velocity', type: 'frequency', key: 'userId', window: '1m', threshold: 1 },
        { id: 'big', type: 'threshold', field: 'amount', gt: 100 },
      ],
    });
    const batch = [json({ userId: 'u', amount: 5, ts: T0 }), json({ userId: 'u', amount: 500, ts: T0 + 1 }), json({ userId: 'v', amount: 1, ts: T0 + 2 }), Event.fromText('not json')];
    const texts = batch.map((e) => e.text);
    const out = await processor.process(batch, ctx);
    expect(out).toBe(batch);
    expect(out.map((e) => e.headers.fraudFlags)).toEqual([undefined, 'velocity,big', undefined, undefined]);
    expect(out[1]!.data).toEqual({ userId: 'u', amount: 500, ts: T0 + 1, fraudFlags: ['velocity', 'big'] });
    // Unflagged events keep their exact text (nothing was re-serialized).
    expect([0, 2, 3].map((i) => out[i]!.text)).toEqual([texts[0], texts[2], texts[3]]);
    expect(ctx.stats.get('events_unreadable_total')).toBe(1);
  });

  test('keeps flags set upstream and adds its own once', async () => {
    const { ctx, processor } = await processorOf({ annotate: true, rules: [{ id: 'big', type: 'threshold', field: 'amount', gt: 1 }] });
    const [event] = await processor.process([json({ amount: 5, fraudFlags: ['other'] }, { fraudFlags: 'other' })], ctx);
    expect(event!.headers.fraudFlags).toBe('other,big');
    expect(event!.data.fraudFlags).toEqual(['other', 'big']);
    await processor.process([event!], ctx);
    expect(event!.headers.fraudFlags).toBe('other,big');
    expect(ctx.emitted).toEqual([]); // no emitTo: annotation only
  });

  test('without annotate the events are untouched; anomalies still go to emitTo', async () => {
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['a', 'b'], rules: [{ id: 'big', type: 'threshold', field: 'amount', gt: 1 }] });
    const [event] = await processor.process([json({ amount: 5 })], ctx);
    expect(event!.headers.fraudFlags).toBeUndefined();
    expect(event!.text).toBe('{"amount":5}');
    expect(ctx.emitted[0]!.channels).toEqual(['a', 'b']);
    expect(anomalies()).toHaveLength(1);
  });
});

  test('transaction ids kept in windows are listed exactly as they came, built by concatenation or padded', async () => {
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['a'], timeField: 'ts', rules: [{ id: 'velocity', type: 'frequency', key: 'userId', window: '1m', threshold: 2 }] });
    let rope = '';
    for (const c of 'tx-built-one-char-at-a-time') rope += c;
    const ids = [rope, ' padded ', 'plain'];
    await processor.process(ids.map((transactionId, i) => Event.fromData({ userId: 'u', transactionId, ts: T0 + i })), ctx);
    expect(anomalies().map((a) => a.transactionIds)).toEqual([ids]);
  });

describe('fraud event time', () => {
  test('an event without a valid time skips the windowed rules only, counted', async () => {
    const { ctx, processor, anomalies } = await processorOf({
      emitTo: ['x'],
      timeField: 'ts',
      rules: [{ id: 'velocity', type: 'frequency', key: 'userId', window: '1m', threshold: 0 }, { id: 'big', type: 'threshold', field: 'amount', gt: 1 }],
    });
    const bodies = [{ userId: 'u', amount: 5 }, { userId: 'u', amount: 5, ts: 'yesterday' }, { userId: 'u', amount: 5, ts: 1e300 }, { userId: 'u', amount: 0, ts: '2024-01-01T00:00:00Z' }];
    await processor.process(bodies.map((b) => Event.fromData(b)), ctx);
    expect(ctx.stats.get('events_without_time_total')).toBe(3);
    expect(anomalies().map((a) => a.ruleId)).toEqual(['big', 'big', 'big', 'velocity']);
    expect(anomalies()[3]).toMatchObject({ windowEnd: '2024-01-01T00:00:00.000Z' });
  });

  test('a window reaching past the earliest representable date still gives a valid windowStart', async () => {
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['x'], timeField: 'ts', rules: [{ id: 'v', type: 'frequency', key: 'u', window: '200000000d', threshold: 0 }] });
    await processor.process([Event.fromData({ u: 'a', ts: T0 })], ctx);
    expect(anomalies()[0]).toMatchObject({ windowStart: '-271821-04-20T00:00:00.000Z', windowEnd: '2024-01-01T00:00:00.000Z' });
  });

  test('without a timeField, windows run on processing time and tick expires idle keys', async () => {
    const { ctx, processor, anomalies } = await processorOf({ emitTo: ['x'], rules: [{ id: 'velocity', type: 'frequency', key: 'userId', window: '2s', threshold: 2 }] });
    const before = Date.now();
    await processor.process([1, 2, 3].map(() => Event.fromData({ userId: 'u' })), ctx);
    const end = Date.parse(anomalies()[0]!.windowEnd as string);
    expect(end).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(Date.now());
    await processor.process([Event.fromData({ userId: 'v' })], ctx);
    expect(ctx.stats.get('keys_tracked')).toBe(2);
    await processor.tick!(Date.now() + 10_000, ctx);
    expect(ctx.stats.get('keys_tracked')).toBe(0);
  });
});

describe('fraud configuration', () => {
  const lint = (partial: object) => fraud.lint!(configOf(partial));

  test('rule ids must be unique, also as metric names', () => {
    const rule = { type: 'threshold', field: 'amount', gt: 1 };
    expect(lint({ emitTo: ['x'], rules: [{ id: 'a', ...rule }, { id: 'b', ...rule }, { id: 'a', ...rule }] })).toEqual([
      { key: 'rules.2.id', message: 'rule id "a" is already used by rules.0 ("a"): rule ids must be unique.' },
    ]);
    expect(lint({ emitTo: ['x'], rules: [{ id: 'a-b', ...rule }, { id: 'a_b', ...rule }] })[0]!.message).toMatch(/gives the same metric name as rules.0/);
  });

  test('anomalies must go somewhere, and a count threshold must fit in maxEventsPerKey', () => {
    expect(lint({ rules: [{ id: 'a', type: 'threshold', field: 'amount', gt: 1 }] })).toEqual([
      { key: 'emitTo', message: 'anomalies would go nowhere: name a channel in emitTo, or set annotate: true.' },
    ]);
    expect(lint({ annotate: true, rules: [{ id: 'a', type: 'distinct', key: 'k', field: 'f', window: '0s', threshold: 1 }] })).toEqual([
      { key: 'rules.0.window', message: 'must be longer than 0: the trailing window the rule counts over.' },
    ]);
    expect(lint({ annotate: true, maxEventsPerKey: 10, rules: [{ id: 'a', type: 'frequency', key: 'k', window: 1, threshold: 10 }] })[0]).toEqual({
      key: 'rules.0.threshold',
      message: 'threshold 10 can never be exceeded with maxEventsPerKey 10: raise maxEventsPerKey above it.',
    });
  });

  test('the issue example validates through the agent config, with defaults filled', async () => {
    const yaml = agentYaml(`
      fraud:
        type: fraud
        emitTo: [anomalies]
        annotate: true
        timeField: transactionTime
        rules:
${ISSUE_RULES.map((r) => `          - ${JSON.stringify(r)}`).join('\n')}`);
    const resolved = await validateConfig(parseConfigText(yaml, join(dir, 'ok.yaml'), {}));
    expect(resolved.agents.a!.processors[0]!.config).toMatchObject({ idField: 'transactionId', maxIdsPerAnomaly: 100, maxKeys: 1_000_000, maxEventsPerKey: 10_000 });
  });

  test('a typo inside a rule is a located, readable error', async () => {
    const problems = await configProblems(`
      fraud:
        type: fraud
        emitTo: [anomalies]
        rules:
          - { id: high-frequency, type: frequency, key: userId, windw: 60s, threshold: 10 }
          - { id: big-ticket, type: treshold, field: amount, gt: 10000 }
          - { id: intl-large, type: expression, when: "isInternational && amount >" }`);
    expect(problems).toEqual([
      expect.stringMatching(/ok\.yaml:10:13 agents\.a\.processors\.fraud\.rules\.0: missing required key "window"/),
      expect.stringMatching(/ok\.yaml:10:65 agents\.a\.processors\.fraud\.rules\.0\.windw: unknown key "windw"; did you mean "window"\? Valid keys: id, type, key, window, threshold, timeField\./),
      expect.stringMatching(/ok\.yaml:11:37 agents\.a\.processors\.fraud\.rules\.1\.type: must be one of "frequency", "threshold", "pair-volume", "distinct", "expression"; got "treshold"; did you mean "threshold"\?/),
    ]);
    // Lint runs once the schema passes: the expression's syntax error, with its column.
    const lintProblems = await configProblems(`
      fraud:
        type: fraud
        emitTo: [anomalies]
        rules:
          - { id: intl-large, type: expression, when: "isInternational && amount >" }`);
    expect(lintProblems).toEqual([
      expect.stringContaining('agents.a.processors.fraud.rules.0.when: syntax error at column 28 of "isInternational && amount >": expected a value'),
    ]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'fta-fraud-'));
  function agentYaml(processors: string): string {
    return `agents:
  a:
    sources:
      gen: { type: generator, count: 1, channels: [main], processors: [fraud] }
    processors:${processors}
    channels:
      main: { type: memory }
      anomalies: { type: memory }
    sinks:
      out: { type: null, channel: main }
      alerts: { type: null, channel: anomalies }
`;
  }
  async function configProblems(processors: string): Promise<string[]> {
    try {
      await validateConfig(parseConfigText(agentYaml(processors), join(dir, 'ok.yaml'), {}));
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map(formatProblem);
    }
  }
});

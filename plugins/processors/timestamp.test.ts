import { Ajv } from 'ajv';
import { expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { recordingProcessContext } from '../../agent/testing/context.ts';
import timestamp, { type TimestampConfig } from './timestamp.ts';

function configOf(partial: Partial<TimestampConfig>): TimestampConfig {
  const config = structuredClone(partial);
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(timestamp.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as TimestampConfig;
}

async function run(partial: Partial<TimestampConfig>, events: Event[]): Promise<Event[]> {
  const ctx = recordingProcessContext('timestamp');
  const processor = await timestamp.create(configOf(partial), ctx);
  return processor.process(events, ctx);
}

test('defaults follow Flume', () => {
  expect(configOf({})).toEqual({ headerName: 'timestamp', preserveExisting: false });
});

test('stamps every event of a batch with the same current epoch milliseconds', async () => {
  const before = Date.now();
  const out = await run({}, [Event.fromText('a'), Event.fromText('b'), Event.fromText('c')]);
  const after = Date.now();
  expect(out).toHaveLength(3);
  const values = new Set(out.map((e) => e.headers.timestamp));
  expect(values.size).toBe(1);
  const stamped = Number([...values][0]);
  expect(stamped).toBeGreaterThanOrEqual(before);
  expect(stamped).toBeLessThanOrEqual(after);
  expect(out[0]!.text).toBe('a');
});

test('overwrites an existing header unless preserveExisting', async () => {
  const overwritten = await run({}, [Event.fromText('x', { timestamp: '1' })]);
  expect(overwritten[0]!.headers.timestamp).not.toBe('1');
  const kept = await run({ preserveExisting: true }, [Event.fromText('x', { timestamp: '1' }), Event.fromText('y')]);
  expect(kept[0]!.headers.timestamp).toBe('1');
  expect(kept[1]!.headers.timestamp).toMatch(/^\d{13}$/);
});

test('writes to the configured header only', async () => {
  const [event] = await run({ headerName: 'ingest_ms' }, [Event.fromText('x', { other: 'o' })]);
  expect(event!.headers).toEqual({ other: 'o', ingest_ms: expect.stringMatching(/^\d+$/) });
});

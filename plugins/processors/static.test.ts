import { Ajv } from 'ajv';
import { expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { recordingProcessContext } from '../../agent/testing/context.ts';
import staticProcessor, { type StaticConfig } from './static.ts';

function configOf(partial: Partial<StaticConfig>): StaticConfig {
  const config = structuredClone(partial);
  const validate = new Ajv({ useDefaults: true, strict: false, allowUnionTypes: true }).compile(staticProcessor.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as StaticConfig;
}

async function run(partial: Partial<StaticConfig>, events: Event[]): Promise<Event[]> {
  const ctx = recordingProcessContext('static');
  const processor = await staticProcessor.create(configOf(partial), ctx);
  return processor.process(events, ctx);
}

test('defaults follow Flume, including preserveExisting true', () => {
  expect(configOf({})).toEqual({ key: 'key', value: 'value', preserveExisting: true });
});

test('sets the configured header on every event', async () => {
  const out = await run({ key: 'datacenter', value: 'NYC_01' }, [Event.fromText('a'), Event.fromText('b')]);
  expect(out.map((e) => e.headers)).toEqual([{ datacenter: 'NYC_01' }, { datacenter: 'NYC_01' }]);
});

test('keeps an existing value by default and overwrites it when preserveExisting is false', async () => {
  const kept = await run({ key: 'env', value: 'prod' }, [Event.fromText('a', { env: 'test' })]);
  expect(kept[0]!.headers.env).toBe('test');
  const replaced = await run({ key: 'env', value: 'prod', preserveExisting: false }, [Event.fromText('a', { env: 'test' })]);
  expect(replaced[0]!.headers.env).toBe('prod');
});

test('writes numbers and booleans as text, since headers are strings', async () => {
  const [event] = await run({ key: 'shard', value: 7 }, [Event.fromText('a')]);
  expect(event!.headers.shard).toBe('7');
});

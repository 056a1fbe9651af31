import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { Event, type Source } from '../../agent/index.ts';
import { recordingProcessContext, recordingSourceContext } from '../../agent/testing/context.ts';
import generator, { type GeneratorConfig } from '../sources/generator.ts';
import jsonSchema, { type JsonSchemaConfig } from './json-schema.ts';

const CONF_DIR = fileURLToPath(new URL('../../conf/', import.meta.url));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

function configOf(partial: Partial<JsonSchemaConfig>): JsonSchemaConfig {
  const config = structuredClone(partial);
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(jsonSchema.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return deepFreeze(config) as JsonSchemaConfig;
}

async function build(partial: Partial<JsonSchemaConfig>, configDir = CONF_DIR) {
  const ctx = recordingProcessContext('json-schema', { configDir });
  const processor = await jsonSchema.create(configOf(partial), ctx);
  return { ctx, process: async (events: Event[]) => processor.process(events, ctx) };
}

const PAYMENT = {
  type: 'object',
  required: ['id', 'amount'],
  properties: { id: { type: 'string' }, amount: { type: 'number', minimum: 0 }, at: { type: 'string', format: 'date-time' } },
};

describe('json-schema processor', () => {
  test('passes valid events and dead-letters invalid and malformed ones', async () => {
    const { ctx, process } = await build({ schema: PAYMENT });
    const batch = [
      Event.fromText('{"id":"a","amount":1}'),
      Event.fromText('{"id":"b","amount":-5}'),
      Event.fromText('{"id":"c","amount":2'),
      Event.fromData({ id: 'd', amount: 3, at: '2024-01-01T00:00:00Z' }),
      Event.fromData({ id: 'e', amount: 3, at: 'yesterday' }),
    ];
    const out = await process(batch);
    expect(out.map((e) => e.data.id)).toEqual(['a', 'd']);
    expect(batch).toHaveLength(5);
    expect(ctx.deadLetters.map((d) => [d.event.text.slice(0, 10), d.reason])).toEqual([
      ['{"id":"b",', 'schema-invalid'],
      ['{"id":"c",', 'malformed-json'],
      ['{"id":"e",', 'schema-invalid'],
    ]);
    expect(ctx.deadLetters[0]!.detail).toBe('body/amount must be >= 0');
    expect(ctx.deadLetters[1]!.detail).toMatch(/JSON/);
    expect(ctx.deadLetters[2]!.detail).toMatch(/date-time/);
  });

  test('returns the batch itself when every event is valid', async () => {
    const { process } = await build({ schema: PAYMENT });
    const batch = [Event.fromData({ id: 'a', amount: 0 })];
    expect(await process(batch)).toBe(batch);
  });

  test('allErrors reports every violation', async () => {
    const bad = () => [Event.fromData({ amount: -1 })];
    const first = await build({ schema: PAYMENT });
    await first.process(bad());
    expect(first.ctx.deadLetters[0]!.detail).not.toContain(', ');
    const all = await build({ schema: PAYMENT, allErrors: true });
    await all.process(bad());
    expect(all.ctx.deadLetters[0]!.detail).toMatch(/must have required property 'id'.*, body\/amount must be >= 0/);
  });

  test('understands draft-07 schemas as well as 2020-12', async () => {
    const { process } = await build({ schema: { $schema: 'http://json-schema.org/draft-07/schema#', ...PAYMENT } });
    expect(await process([Event.fromData({ id: 'x', amount: 1 }), Event.fromData({ id: 1 })])).toHaveLength(1);
  });

  test('reads schemaFile relative to the configuration directory, as JSON or YAML', async () => {
    const fromJson = await build({ schemaFile: 'schemas/fintrans.schema.json' });
    expect(await fromJson.process([Event.fromText('{"city":"SF","source":"1","target":"2","amount":5,"ts":1}')])).toHaveLength(1);
    const dir = await mkdtemp(join(tmpdir(), 'fta-json-schema-'));
    await writeFile(join(dir, 'payment.yaml'), 'type: object\nrequired: [id]\nproperties:\n  id: { type: string }\n');
    const fromYaml = await build({ schemaFile: 'payment.yaml' }, dir);
    expect(await fromYaml.process([Event.fromData({ id: 'x' }), Event.fromData({ id: 7 })])).toHaveLength(1);
    expect(fromYaml.ctx.deadLetters[0]!.detail).toBe('body/id must be string');
  });

  test('fails create() clearly on a missing file, a schema that does not compile, or neither/both keys', async () => {
    const ctx = recordingProcessContext('json-schema', { configDir: CONF_DIR });
    await expect(jsonSchema.create(configOf({ schemaFile: 'schemas/nope.json' }), ctx)).rejects.toThrow(/cannot read schemaFile ".*nope\.json"/);
    await expect(jsonSchema.create(configOf({ schema: { type: 'no-such-type' } }), ctx)).rejects.toThrow(/does not compile/);
    await expect(jsonSchema.create({ allErrors: false }, ctx)).rejects.toThrow(/exactly one of schema or schemaFile/);
    await expect(jsonSchema.create({ schema: PAYMENT, schemaFile: 'x.json', allErrors: false }, ctx)).rejects.toThrow(/exactly one/);
  });
});

describe('conf/schemas against the generator', () => {
  async function generate(config: Partial<GeneratorConfig>): Promise<Event[]> {
    const full = { schema: 'financial_transactions', rate: 0, count: 2000, seed: 11, batchSize: 500, ...config } as GeneratorConfig;
    const ctx = recordingSourceContext('generator');
    const source: Source = await generator.create(full, ctx);
    await source.run(ctx);
    return ctx.batches.flat();
  }

  for (const schema of ['financial_transactions', 'finance', 'fintrans'] as const) {
    test(`every ${schema} event is valid against conf/schemas/${schema}.schema.json`, async () => {
      const { ctx, process } = await build({ schemaFile: `schemas/${schema}.schema.json`, allErrors: true });
      for (const startTime of [undefined, '2024-02-29T23:59:59.5Z']) {
        // Re-serialized from text so the check covers what a sink would write, not just the in-memory object.
        const events = (await generate({ schema, startTime })).map((e) => Event.fromText(e.text));
        expect(await process(events)).toHaveLength(events.length);
      }
      expect(ctx.deadLetters.map((d) => d.detail)).toEqual([]);
    });
  }

  test('the financial_transactions schema rejects what it should', async () => {
    const { ctx, process } = await build({ schemaFile: 'schemas/financial_transactions.schema.json', allErrors: true });
    const [good] = await generate({ count: 1 });
    const variants = [{ amount: -1 }, { currency: 'usd' }, { transactionTime: 1.5 }, { transactionType: 'chargeback' }, { extra: 1 }];
    const out = await process(variants.map((v) => Event.fromData({ ...good!.data, ...v })));
    expect(out).toHaveLength(0);
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(variants.map(() => 'schema-invalid'));
  });
});

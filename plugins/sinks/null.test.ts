import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { testContext } from '../../agent/testing/context.ts';
import plugin from './null.ts';

describe('null sink', () => {
  test('schema is strict, documented and defaults batchSize to 100', () => {
    const validate = new Ajv({ strict: true, useDefaults: true }).compile(plugin.schema);
    const config: Record<string, unknown> = {};
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ batchSize: 100 });
    expect(validate({ batchSize: 0 })).toBe(false);
    expect(validate({ path: '/tmp' })).toBe(false);
    for (const property of Object.values(plugin.schema.properties as Record<string, { description?: string }>)) {
      expect(property.description).toBeTruthy();
    }
  });

  test('acknowledges every batch without reading the bodies', async () => {
    const sink = await plugin.create({ batchSize: 100 }, testContext('sink', 'null'));
    const event = Event.fromData({ amount: 1 });
    Object.defineProperty(event, 'text', { get: () => expect.unreachable('the null sink read a body') });
    await expect(sink.write([event, Event.fromText('x')])).resolves.toBeUndefined();
    await expect(sink.write([])).resolves.toBeUndefined();
  });
});

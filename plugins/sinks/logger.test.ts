import { Ajv } from 'ajv';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { testContext } from '../../agent/testing/context.ts';
import plugin from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, ctx: testContext('sink', 'logger', { log }) };
}

describe('logger sink', () => {
  test('schema is strict, documented and has Flume-like defaults', () => {
    const validate = new Ajv({ strict: true, useDefaults: true }).compile(plugin.schema);
    const config: Record<string, unknown> = {};
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ batchSize: 100, maxBytesToLog: 256 });
    expect(validate({ maxBytesToLog: -1 })).toBe(false);
    expect(validate({ unknown: 1 })).toBe(false);
    for (const property of Object.values(plugin.schema.properties as Record<string, { description?: string }>)) {
      expect(property.description).toBeTruthy();
    }
    expect(plugin.description).toMatch(/only sink that logs event data/);
  });

  test('logs each event at info with its headers and body', async () => {
    const { lines, ctx } = capture();
    const sink = await plugin.create({ batchSize: 100, maxBytesToLog: 256 }, ctx);
    await sink.write([Event.fromText('{"id":1}', { source: 'a' }), Event.fromData({ id: 2 })]);
    expect(lines.map((l) => [l.level, l.headers, l.body])).toEqual([
      [30, { source: 'a' }, '{"id":1}'],
      [30, {}, '{"id":2}'],
    ]);
  });

  test('truncates the body to maxBytesToLog characters', async () => {
    const { lines, ctx } = capture();
    const sink = await plugin.create({ batchSize: 100, maxBytesToLog: 4 }, ctx);
    await sink.write([Event.fromText('0123456789'), Event.fromText('é€ab'), Event.fromText('ab')]);
    expect(lines.map((l) => l.body)).toEqual(['0123', 'é€ab', 'ab']);
  });

  test('maxBytesToLog 0 logs headers only', async () => {
    const { lines, ctx } = capture();
    const sink = await plugin.create({ batchSize: 100, maxBytesToLog: 0 }, ctx);
    await sink.write([Event.fromText('secret', { h: '1' })]);
    expect(lines[0]).toMatchObject({ headers: { h: '1' }, body: '' });
  });
});

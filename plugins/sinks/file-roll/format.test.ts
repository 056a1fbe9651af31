import { describe, expect, test } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { encodeBatch } from './format.ts';

describe('file_roll formats', () => {
  test('a batch is its lines joined by newlines with a trailing newline', () => {
    const batch = encodeBatch([Event.fromText('{"a":1}'), Event.fromData({ b: 2 })], 'json');
    expect(batch).toEqual({ text: '{"a":1}\n{"b":2}\n', rejected: [] });
    expect(encodeBatch([], 'json').text).toBe('');
  });

  test('json keeps the original text and compacts a body that spans lines', () => {
    const original = '{ "amount" : 12.50 }';
    const pretty = '{\n  "amount": 1,\n  "note": "a\\nb"\n}';
    const { text } = encodeBatch([Event.fromText(original), Event.fromText(pretty)], 'json');
    expect(text).toBe(`${original}\n{"amount":1,"note":"a\\nb"}\n`);
    expect(text.split('\n').slice(0, -1).map((line) => JSON.parse(line))).toHaveLength(2);
  });

  test('json sends bodies that are not JSON to dead letters and writes the rest', () => {
    const bad = Event.fromText('not json');
    const { text, rejected } = encodeBatch([Event.fromText('1'), bad, Event.fromText('"s"')], 'json');
    expect(text).toBe('1\n"s"\n');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ event: bad, reason: 'not_json' });
    expect(rejected[0]!.detail).toMatch(/json-with-headers/);
  });

  test('text writes the body text as is, bytes decoded as UTF-8', () => {
    const { text, rejected } = encodeBatch(
      [Event.fromText('2024-01-01;EUR;12.50'), Event.fromBytes(Buffer.from('café', 'utf8')), Event.fromData({ x: 1 })],
      'text',
    );
    expect(text).toBe('2024-01-01;EUR;12.50\ncafé\n{"x":1}\n');
    expect(rejected).toEqual([]);
  });

  test('json-with-headers embeds a JSON body as JSON and any other body as a string', () => {
    const { text, rejected } = encodeBatch(
      [Event.fromText('{"id":7}', { topic: 'tx', 'content-type': 'json' }), Event.fromText('plain "line"', { n: '2' })],
      'json-with-headers',
    );
    expect(rejected).toEqual([]);
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { headers: { topic: 'tx', 'content-type': 'json' }, body: { id: 7 } },
      { headers: { n: '2' }, body: 'plain "line"' },
    ]);
  });

  test('a body that cannot be serialized is rejected in every format', () => {
    for (const format of ['json', 'text', 'json-with-headers'] as const) {
      const { text, rejected } = encodeBatch([Event.fromData({ amount: 1n }), Event.fromData(2)], format);
      expect(text).toMatch(/^(2|\{"headers":\{\},"body":2\})\n$/);
      expect(rejected.map((r) => r.reason)).toEqual(['unserializable']);
    }
  });
});

import { describe, expect, test } from 'vitest';
import type { Event } from '../../../agent/index.ts';
import { headerFactory, isUtf8Charset, LineDecoder, type LineFormat } from './decoder.ts';

function decoder(format: LineFormat = 'json', charset = 'UTF-8') {
  const dead: { events: Event[]; reason: string; detail?: string }[] = [];
  const d = new LineDecoder({ format, charset, maxLineLength: 100, deadLetter: (events, reason, detail) => dead.push({ events, reason, detail }) });
  const decode = (bytes: Buffer | string) => {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    // Decode from the middle of a larger buffer, as the splitter hands lines over.
    const padded = Buffer.concat([Buffer.from('xx'), buf, Buffer.from('yy')]);
    return d.decode(padded, 2, 2 + buf.length, 99);
  };
  return { d, dead, decode };
}

describe('LineDecoder', () => {
  test('json: keeps the original text and the parsed value, so nothing parses twice', () => {
    const { decode, dead } = decoder();
    const e = decode('{"amount": 12.5, "id":"t1"}')!;
    expect(e.hasData).toBe(true);
    expect(e.data).toEqual({ amount: 12.5, id: 't1' });
    expect(e.text).toBe('{"amount": 12.5, "id":"t1"}');
    expect(dead).toEqual([]);
  });

  test('json: malformed lines and non-objects go to dead letters with their reasons', () => {
    const { decode, dead, d } = decoder();
    d.source = 'in/a.json';
    expect(decode('{"a":')).toBeUndefined();
    expect(decode('42')).toBeUndefined();
    expect(decode('[1,2]')).toBeUndefined();
    expect(decode('null')).toBeUndefined();
    expect(dead.map((x) => x.reason)).toEqual(['malformed-json', 'not-an-object', 'not-an-object', 'not-an-object']);
    expect(dead[0]!.events[0]!.text).toBe('{"a":');
    expect(dead[0]!.detail).toContain('in/a.json');
    expect(dead[1]!.detail).toContain('a number');
  });

  test('invalid UTF-8 goes to dead letters as bytes; a real U+FFFD in the data is fine', () => {
    const { decode, dead } = decoder('text');
    expect(decode(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBeUndefined();
    expect(dead[0]!.reason).toBe('invalid-encoding');
    expect([...dead[0]!.events[0]!.bytes]).toEqual([0x7b, 0xff, 0xfe, 0x7d]);
    expect(decode('ok \uFFFD ok')!.text).toBe('ok \uFFFD ok');
    expect(decode(Buffer.from([0xe2, 0x82])) /* truncated sequence */).toBeUndefined();
    expect(dead).toHaveLength(2);
  });

  test('latin1 input decodes every byte', () => {
    const { decode } = decoder('text', 'latin1');
    expect(decode(Buffer.from([0x63, 0x61, 0x66, 0xe9]))!.text).toBe('café');
    expect(isUtf8Charset('latin1')).toBe(false);
    expect(isUtf8Charset('utf8')).toBe(true);
    expect(() => isUtf8Charset('klingon')).toThrow(RangeError);
  });

  test('each event gets its own headers object, and the ingest time of the chunk', () => {
    const { d, decode } = decoder('text');
    d.headers = headerFactory([['file', '/s/a'], ['basename', 'a']]);
    d.now = 1234;
    const a = decode('x')!;
    const b = decode('y')!;
    expect(a.headers).toEqual({ file: '/s/a', basename: 'a' });
    expect(a.headers).not.toBe(b.headers);
    expect(a.ingestTime).toBe(1234);
    expect(headerFactory([['k', 'v']])()).toEqual({ k: 'v' });
    expect(headerFactory([])()).toEqual({});
  });

  test('tooLong dead-letters the head with reason line-too-long', () => {
    const { d, dead } = decoder();
    d.tooLong(Buffer.from('abc'), 5000, 7000);
    expect(dead[0]!.reason).toBe('line-too-long');
    expect(dead[0]!.events[0]!.text).toBe('abc');
    expect(dead[0]!.detail).toContain('5000');
  });
});

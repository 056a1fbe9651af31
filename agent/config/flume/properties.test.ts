import { describe, expect, it } from 'vitest';
import { parseProperties } from './properties.ts';

const kv = (text: string) => parseProperties(text).properties.map((p) => [p.key, p.value]);

describe('Java properties parser', () => {
  it('reads = and : and whitespace separators, and skips # and ! comments and blank lines', () => {
    const text = '# comment\n! also a comment\n\n  a.b = 1\na.c:2\na.d    3\na.e=\n  \ta.f = x = y\n';
    expect(kv(text)).toEqual([['a.b', '1'], ['a.c', '2'], ['a.d', '3'], ['a.e', ''], ['a.f', 'x = y']]);
  });

  it('records the line and column of each key and of its value', () => {
    const { properties } = parseProperties('\n# x\n   agent.sources = s1 s2\n');
    expect(properties[0]).toEqual({ key: 'agent.sources', value: 's1 s2', line: 3, col: 4, valueLine: 3, valueCol: 20 });
  });

  it('joins continuation lines, dropping the next line\'s leading whitespace, and keeps the first line as the key\'s', () => {
    const { properties } = parseProperties('a.channels = c1 \\\n        c2 \\\n   c3\nb = 2\n');
    expect(properties.map((p) => [p.key, p.value, p.line])).toEqual([['a.channels', 'c1 c2 c3', 1], ['b', '2', 4]]);
  });

  it('continues a key onto the next line and reports the value where it starts', () => {
    const { properties } = parseProperties('agent.sinks.k1.\\\n  hdfs.path = /x\n');
    expect(properties[0]).toMatchObject({ key: 'agent.sinks.k1.hdfs.path', value: '/x', line: 1, valueLine: 2, valueCol: 15 });
  });

  it('an even number of trailing backslashes is an escaped backslash, not a continuation', () => {
    expect(kv('a = C:\\\\\nb = 2\n')).toEqual([['a', 'C:\\'], ['b', '2']]);
  });

  it('a comment line is never continued, but a continued line starting with # is value text', () => {
    expect(kv('# note \\\na = 1\\\n#2\n')).toEqual([['a', '1#2']]);
  });

  it('decodes \\t \\n \\r \\f, \\uXXXX and escaped separators in keys and values', () => {
    expect(kv('a\\=b\\:c\\ d = x\\ty\\u00e9\\n\\z\\\\\n')).toEqual([['a=b:c d', 'x\tyé\nz\\']]);
  });

  it('accepts CRLF and CR line ends and a byte-order mark', () => {
    expect(kv('\uFEFFa = 1\r\nb = 2\rc = 3')).toEqual([['a', '1'], ['b', '2'], ['c', '3']]);
  });

  it('drops trailing whitespace of a value (Java keeps it) but keeps an escaped trailing space', () => {
    expect(kv('a = /path   \nb = x\\ \n')).toEqual([['a', '/path'], ['b', 'x ']]);
  });

  it('reports a malformed \\u escape at its line and column', () => {
    const { properties, problems } = parseProperties('ok = 1\nbad = x\\u12g4\n');
    expect(properties.map((p) => p.key)).toEqual(['ok']);
    expect(problems).toEqual([{ line: 2, col: 8, message: expect.stringContaining('malformed \\uXXXX escape') }]);
  });

  it('a last line ending in a backslash ends the value there', () => {
    expect(kv('a = 1\\')).toEqual([['a', '1']]);
  });
});

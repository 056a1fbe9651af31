import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { confLineCounter, leaf, writeYaml, ymap, type Pos } from './yaml-out.ts';

const at = (line: number, col = 1, valueCol = 10): Pos => ({ line, col, valueLine: line, valueCol });

describe('YAML writer with .conf origins', () => {
  it('quotes exactly the strings YAML would not read back as the same string', () => {
    const strings = ['plain', '/a/b.c', '127.0.0.1:9092', '5000', 'true', 'null', '', ' lead', '%{topic}', '%Y%m%d', 'a: b', 'a #b', '[x]', '*x', 'yes', '0x1F', '1e3', 'é', 'tab\tnew\nline', '${X}'];
    const root = ymap(at(1));
    strings.forEach((s, i) => root.entries.set(`k${i}`, leaf(s, at(i + 1))));
    root.entries.set('list', leaf(strings, at(99)));
    const { text } = writeYaml(root);
    const back = parseDocument(text).toJS() as Record<string, unknown>;
    strings.forEach((s, i) => expect(back[`k${i}`]).toBe(s));
    expect(back.list).toEqual(strings);
    expect(text).toContain('k0: plain ');
    expect(text).toContain('k3: "5000"');
  });

  it('writes numbers, booleans and raw references as YAML values, with notes and line comments', () => {
    const root = ymap(at(1));
    root.entries.set('n', leaf(5, at(3), "Flume's default"));
    root.entries.set('b', leaf(false, at(4)));
    root.entries.set('r', leaf({ raw: '${BATCH:-10}' }, at(5)));
    const { text } = writeYaml(root, ['header ${X}']);
    expect(text.split('\n')).toEqual([
      '# header $ {X}',
      expect.stringMatching(/^n: 5 +# line 3: Flume's default$/),
      expect.stringMatching(/^b: false +# line 4$/),
      expect.stringMatching(/^r: \$\{BATCH:-10\} +# line 5$/),
      '',
    ]);
  });

  it('maps a YAML position to the .conf key before the value and to the .conf value inside it', () => {
    const root = ymap(at(2, 1));
    const m = ymap(at(7, 3));
    root.entries.set('sink', m);
    m.entries.set('batchSize', leaf(100, { line: 8, col: 5, valueLine: 9, valueCol: 7 }));
    const { text, origins } = writeYaml(root, ['a header line']);
    const yamlLines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: yamlLines });
    const lc = confLineCounter(yamlLines, origins);
    const pair = (doc.get('sink', true) as any).items[0];
    expect(lc.linePos(pair.key.range[0])).toEqual({ line: 8, col: 5 });
    expect(lc.linePos(pair.value.range[0])).toEqual({ line: 9, col: 7 });
    expect(lc.linePos((doc.contents as any).range[0])).toEqual({ line: 7, col: 3 }); // the root map starts at its first key
    expect(lc.linePos(0)).toEqual({ line: 7, col: 3 }); // a header comment belongs to what follows it
  });
});

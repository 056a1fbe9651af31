/**
 * `test` and `replay` on a config whose processors are real plugins (json-schema, static, filter), with no server:
 * passing and failing cases with their diff and exit code, located errors in a test file, and a replay that counts
 * per channel and per dead-letter reason in bounded batches.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/problems.ts';
import { replay } from './replay.ts';
import { runTests } from './test-command.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sink() {
  let text = '';
  return { out: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

const CONFIG = `agents:
  a:
    sources:
      tx: { type: generator, channels: [main], processors: [check, tag, bigOnly] }
    processors:
      check: { type: json-schema, schema: { type: object, required: [amount], properties: { amount: { type: number } } } }
      tag: { type: static, key: desk, value: emea }
      bigOnly: { type: filter, field: size, equals: big }
    channels:
      main: { type: memory }
      dlq: { type: memory }
    sinks:
      out: { type: null, channel: main }
      dl: { type: null, channel: dlq }
    deadLetter: { channel: dlq }
`;

function project(tests: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fta-offline-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'pipeline.yaml'), CONFIG);
  writeFileSync(join(dir, 'pipeline.test.yaml'), tests);
  return dir;
}

describe('fintrans-agent test', () => {
  it('passes cases whose expectations hold, through the source chain and selector', async () => {
    const dir = project(`tests:
  - name: big valid events reach main with the static header; invalid ones are dead letters
    source: tx
    input:
      - { amount: 10, size: big }
      - { amount: "ten", size: big }
      - { amount: 5, size: small }
    expect:
      main: [ { $headers: { desk: emea }, amount: 10 } ]
      dlq: [ { $headers: { dl.reason: schema-invalid, dl.component: check }, amount: "ten" } ]
  - name: one processor alone
    processor: tag
    input: [ { amount: 1 } ]
    expect:
      passed: { count: 1, contains: [ { $headers: { desk: emea } } ] }
      main: []
`);
    const s = sink();
    expect(await runTests({ conf: join(dir, 'pipeline.yaml'), out: s.out })).toBe(0);
    expect(s.text()).toMatch(/^ok {3}big valid events/m);
    expect(s.text()).toMatch(/2 passed, 0 failed/);
  });

  it('fails with a diff naming the channel, the event and the path, and exit code 1', async () => {
    const dir = project(`tests:
  - name: wrong expectation
    source: tx
    input: [ { amount: 10, size: big } ]
    expect:
      main: [ { amount: 11 } ]
      nowhere: []
`);
    const s = sink();
    expect(await runTests({ conf: join(dir, 'pipeline.yaml'), out: s.out })).toBe(1);
    expect(s.text()).toMatch(/FAIL wrong expectation \(.*pipeline\.test\.yaml:2\)/);
    expect(s.text()).toContain('main: event 0: .amount: expected 11, got 10');
    expect(s.text()).toContain(`{"$headers":{"desk":"emea"},"amount":10,"size":"big"}`);
    expect(s.text()).toMatch(/nowhere: no such channel; expect one of main, dlq, passed/);
    expect(s.text()).toMatch(/0 passed, 1 failed/);
  });

  it('reports a malformed test file at its line, like a config', async () => {
    const dir = project(`tests:
  - name: typo
    sourse: tx
    input: []
    expect: { main: [] }
`);
    const error = await runTests({ conf: join(dir, 'pipeline.yaml'), out: sink().out }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/pipeline\.test\.yaml:3:5 tests\.0\.sourse: unknown key/);
  });
});

describe('fintrans-agent replay', () => {
  it('streams files through the source chain and counts per channel and dead-letter reason', async () => {
    const dir = project('tests: []\n');
    const lines = [];
    for (let i = 0; i < 2500; i++) lines.push(JSON.stringify({ amount: i % 10 === 0 ? 'bad' : i, size: i % 2 ? 'big' : 'small' }));
    writeFileSync(join(dir, 'h1.jsonl'), `\uFEFF${lines.join('\r\n')}\r\n`);
    writeFileSync(join(dir, 'h2.jsonl'), 'not json\n\n{"amount":1,"size":"big"}\n');
    const s = sink();
    const report = await replay({ conf: join(dir, 'pipeline.yaml'), inputs: ['h*.jsonl'], cwd: dir, out: s.out, batchSize: 100 });
    // odd i are big; every tenth (even) i is invalid and dead-lettered before the filter
    expect(report).toEqual({ files: 2, events: 2502, hits: {}, channels: { main: 1251, dlq: 250 }, deadLetters: { 'schema-invalid': 250, 'not-json': 1 } });
    expect(s.text()).toMatch(/Replayed 2502 events from 2 files through agent "a"/);
  });

  it('says so when the pattern matches nothing', async () => {
    const dir = project('tests: []\n');
    await expect(replay({ conf: join(dir, 'pipeline.yaml'), inputs: ['none/*.jsonl'], cwd: dir, out: sink().out })).rejects.toThrow(/matched no file/);
  });
});

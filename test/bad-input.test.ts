/**
 * The bad-input catalogue (issue 9): every spool-side case runs through a real in-process agent
 * (spooldir → memory → file_roll, rejected events → dead-letter channel → json-with-headers file_roll) and asserts
 * its precise outcome: which lines were delivered, which dead letters with which `dl.reason`, whether the file was
 * completed or quarantined, and that the agent is still healthy. Bad input never crashes the agent.
 *
 * Server-side cases are proven where the server is (integration project, real servers):
 *
 * | case                                   | outcome asserted there                                   | proven by (file: test name)                                          |
 * |----------------------------------------|----------------------------------------------------------|----------------------------------------------------------------------|
 * | a Kafka record that is not JSON        | one dead letter, dl.reason malformed-json, with topic,   | test/kafka.test.ts: "kafka source → file_roll delivers every record   |
 * |                                        | partition and offset headers; the other 15,000 delivered | once and dead-letters records that are not JSON"                     |
 * | an event missing the timestamp its     | dl.reason missing-timestamp with the detail (missing or  | test/hdfs.test.ts: "sends events without a usable transaction_date   |
 * | HDFS path needs                        | unparsable field); the rest written to HDFS              | to dead letters and writes the rest"                                 |
 * | a document Elasticsearch rejects       | dl.reason rejected-by-server, detail "400 document_      | test/elasticsearch.test.ts: "indexes the good documents of a batch   |
 * |                                        | parsing_exception ..."; the other 995 indexed            | and dead-letters the bad ones with the server reason"                |
 * | a point InfluxDB (and QuestDB) rejects | dl.reason rejected-by-server, detail "HTTP 400: partial  | test/influxdb.test.ts: "a batch with a field type conflict writes    |
 * |                                        | write: field type conflict ..."; the other 199 written   | the good points and dead-letters the bad one with the server's reason" |
 * | an unreadable spool file, as root      | logged with EACCES, the others flow, read once its mode  | test/cli.test.ts: "reports an unreadable spool file, keeps running,  |
 * | (this file covers it as a non-root     | is fixed                                                 | and reads it once its permissions are fixed" (runs the agent as      |
 * | user)                                  |                                                          | nobody)                                                              |
 *
 * The second half catalogues configuration errors through the real command (`validate`, after `npm run build`):
 * a wrong-typed value for every schema key of every built-in plugin, every missing required key, unknown keys,
 * dangling references, invalid regexes, durations and charsets, unset ${ENV}, broken YAML. Each must exit with code 2,
 * locate every problem at file:line:column, say how to fix it, and never print a stack trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type Event } from '../agent/index.ts';
import { createLogger } from '../agent/log.ts';
import { componentStats, TestAgents, waitFor } from '../agent/testing/agents.ts';
import type { RunningAgent } from '../agent/run.ts';
import { cleanup, readLines, tempDir } from './helpers/pipeline.ts';

const agents = new TestAgents();
const dirs: string[] = [];
afterEach(async () => {
  await agents.stopAll();
  for (const d of dirs.splice(0)) cleanup(d);
});

interface Case {
  root: string;
  spool: string;
  agent: RunningAgent;
  logs: Record<string, unknown>[];
}

interface DeadLetter {
  headers: Record<string, string>;
  body: unknown;
}

/** Holds the source's emit of the first batch until released, so a file can be changed mid-read. */
const hold = { first: true, held: false, release: () => {} };
const holdProcessor = definePlugin({
  kind: 'processor',
  type: 'hold_first_batch',
  description: 'Test processor: blocks the first batch until the test releases it.',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    async process(events: Event[]) {
      if (hold.first) {
        hold.first = false;
        hold.held = true;
        await new Promise<void>((r) => (hold.release = r));
      }
      return events;
    },
  }),
});

function capture(): { logs: Record<string, unknown>[]; stream: Writable } {
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logs, stream };
}

/** Writes `files` into a fresh spool directory, then starts an agent on it. */
async function run(files: Record<string, string | Buffer>, options: { source?: string; processors?: boolean; before?: (root: string, spool: string) => void } = {}): Promise<Case> {
  const root = tempDir('fta-bad-input-');
  dirs.push(root);
  const spool = join(root, 'spool');
  mkdirSync(spool);
  for (const [name, content] of Object.entries(files)) put(spool, name, content);
  options.before?.(root, spool);
  const { logs, stream } = capture();
  const yaml = `
agents:
  a:
    sources:
      spool: { type: spooldir, spoolDir: ${JSON.stringify(spool)}, fileStableMs: 0, pollDelay: 20, batchSize: 10, channels: [mem]${options.processors ? ', processors: [hold]' : ''}${options.source ?? ''} }
${options.processors ? '    processors:\n      hold: { type: hold_first_batch }\n' : ''}    channels:
      mem: { type: memory }
      dlq: { type: memory }
    sinks:
      out: { type: file_roll, channel: mem, directory: ${JSON.stringify(join(root, 'out'))}, rollInterval: 0, format: text }
      dead: { type: file_roll, channel: dlq, directory: ${JSON.stringify(join(root, 'dead'))}, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
`;
  const agent = await agents.start(yaml, [holdProcessor], createLogger({ level: 'debug', destination: stream }));
  return { root, spool, agent, logs };
}

/** Moves a file into place atomically, as a well-behaved writer does. */
function put(spool: string, name: string, content: string | Buffer): void {
  const tmp = join(spool, `.${name}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, join(spool, name));
}

const spoolStat = (c: Case, metric: string) => componentStats(c.agent, 'spool', 'source').get(metric);
const drained = (c: Case, sink: string) => componentStats(c.agent, sink, 'sink').get('events_drained_total');

/** Waits until `files` files were disposed of and the sinks drained the expected counts, then stops the agent. */
async function settle(c: Case, expect_: { files: number; delivered: number; dead: number }): Promise<{ delivered: string[]; dead: DeadLetter[] }> {
  await waitFor(`${expect_.files} files done, ${expect_.delivered} delivered, ${expect_.dead} dead letters`, () =>
    spoolStat(c, 'files_completed_total') + spoolStat(c, 'files_quarantined_total') >= expect_.files && drained(c, 'out') >= expect_.delivered && drained(c, 'dead') >= expect_.dead,
  );
  // Still alive and well after the bad input: every component running, the source never restarted.
  expect(c.agent.agent.healthy()).toBe(true);
  expect(componentStats(c.agent, 'spool', 'source').state).toBe('running');
  expect(spoolStat(c, 'restarts_total')).toBe(0);
  await c.agent.stop();
  return { delivered: readLines(join(c.root, 'out')), dead: readLines(join(c.root, 'dead')).map((l) => JSON.parse(l) as DeadLetter) };
}

const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')).sort() : []);
const quarantined = (c: Case) => listing(join(c.spool, '.flumespool', 'quarantine'));
const reasons = (dead: DeadLetter[]) => dead.map((d) => d.headers['dl.reason']);

describe('bad input on the spool side: a clear outcome, never a crash', () => {
  it('malformed JSON and non-object lines go to dead letters with their reason; the good lines around them are delivered', async () => {
    const lines = ['{"i":0}', '{not json', '{"i":1}', '{"a":', '[1,2]', '42', '"text"', 'null', '   ', '{"i":2} trailing', 'true', '{"i":3}'];
    const c = await run({ 'mixed.jsonl': `${lines.join('\n')}\n` });
    const { delivered, dead } = await settle(c, { files: 1, delivered: 3, dead: 9 });
    expect(delivered).toEqual(['{"i":0}', '{"i":1}', '{"i":3}']);
    expect(dead.map((d) => [d.body, d.headers['dl.reason']])).toEqual([
      ['{not json', 'malformed-json'],
      ['{"a":', 'malformed-json'],
      [[1, 2], 'not-an-object'],
      [42, 'not-an-object'],
      ['text', 'not-an-object'],
      [null, 'not-an-object'],
      ['   ', 'malformed-json'],
      ['{"i":2} trailing', 'malformed-json'],
      [true, 'not-an-object'],
    ]);
    for (const d of dead) {
      expect(d.headers['dl.component']).toBe('spool');
      expect(d.headers['dl.detail']).toMatch(/\(mixed\.jsonl, line ending at byte \d+\)$/);
      expect(Date.parse(d.headers['dl.time']!)).toBeGreaterThan(0);
    }
    expect(dead[0]!.headers['dl.detail']).toContain('line ending at byte 18');
    expect(listing(c.spool)).toEqual(['mixed.jsonl.COMPLETED']);
    expect(spoolStat(c, 'files_completed_total')).toBe(1);
  });

  it('a 20 MB line goes to dead letters as line-too-long with its first 1024 bytes; the lines after it are delivered', async () => {
    const big = `{"blob":"${'x'.repeat(20 * 1024 * 1024)}"}`;
    const c = await run({ 'big.jsonl': `{"i":0}\n${big}\r\n{"i":1}\n` });
    const { delivered, dead } = await settle(c, { files: 1, delivered: 2, dead: 1 });
    expect(delivered).toEqual(['{"i":0}', '{"i":1}']);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers['dl.reason']).toBe('line-too-long');
    expect(dead[0]!.headers['dl.detail']).toMatch(new RegExp(`^${Buffer.byteLength(big)} bytes, more than maxLineLength 1048576 \\(big\\.jsonl, line ending at byte ${8 + big.length + 2}\\)$`));
    expect(dead[0]!.body).toBe(big.slice(0, 1024));
    expect(listing(c.spool)).toEqual(['big.jsonl.COMPLETED']);
  });

  it('lines that are not valid UTF-8 go to dead letters as invalid-encoding; a real U+FFFD is valid and delivered', async () => {
    const bad = [
      Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // a byte that never occurs in UTF-8
      Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), // overlong "/"
      Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d]), // truncated 3-byte sequence
      Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // an encoded lone surrogate
    ];
    const nl = Buffer.from('\n');
    const file = Buffer.concat([Buffer.from('{"i":0}\n'), ...bad.flatMap((b) => [b, nl]), Buffer.from('{"s":"\uFFFD€"}\n{"i":1}\n')]);
    const c = await run({ 'latin.jsonl': file });
    const { delivered, dead } = await settle(c, { files: 1, delivered: 3, dead: 4 });
    expect(delivered).toEqual(['{"i":0}', '{"s":"\uFFFD€"}', '{"i":1}']);
    expect(reasons(dead)).toEqual(['invalid-encoding', 'invalid-encoding', 'invalid-encoding', 'invalid-encoding']);
    for (const d of dead) expect(d.headers['dl.detail']).toMatch(/^not valid UTF-8 \(latin\.jsonl, line ending at byte \d+\)$/);
    expect(listing(c.spool)).toEqual(['latin.jsonl.COMPLETED']);
  });

  it('a byte-order mark is dropped at the start of a file only; one in the middle makes that line malformed', async () => {
    const c = await run({
      'bom.jsonl': '\uFEFF{"i":0}\n\uFEFF{"i":1}\n{"i":2}\n',
      'bom-only.jsonl': '\uFEFF',
      'bom-crlf.jsonl': '\uFEFF\r\n{"i":3}\r\n',
    });
    const { delivered, dead } = await settle(c, { files: 3, delivered: 3, dead: 1 });
    expect(delivered.sort()).toEqual(['{"i":0}', '{"i":2}', '{"i":3}']);
    expect(dead.map((d) => [d.body, d.headers['dl.reason']])).toEqual([['\uFEFF{"i":1}', 'malformed-json']]);
    expect(listing(c.spool)).toEqual(['bom-crlf.jsonl.COMPLETED', 'bom-only.jsonl.COMPLETED', 'bom.jsonl.COMPLETED']);
  });

  it('CRLF line ends: each \\r\\n ends a line, a lone \\r stays inside its line, blank lines are skipped', async () => {
    const c = await run({ 'crlf.jsonl': '{"i":0}\r\n\r\n{"i":1}\n\r\n{"s":"a\rb"}\r\n{"i":2}' });
    const { delivered, dead } = await settle(c, { files: 1, delivered: 3, dead: 1 });
    expect(delivered).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    // A raw CR inside a JSON string is a control character JSON forbids.
    expect(dead.map((d) => [d.body, d.headers['dl.reason']])).toEqual([['{"s":"a\rb"}', 'malformed-json']]);
    expect(listing(c.spool)).toEqual(['crlf.jsonl.COMPLETED']);
  });

  it('empty files and files of blank lines are completed with nothing delivered and no dead letters', async () => {
    const c = await run({ 'empty.jsonl': '', 'blank.jsonl': '\n\r\n\n\r\n', 'last.jsonl': '{"i":0}\n' });
    const { delivered, dead } = await settle(c, { files: 3, delivered: 1, dead: 0 });
    expect(delivered).toEqual(['{"i":0}']);
    expect(dead).toEqual([]);
    expect(listing(c.spool)).toEqual(['blank.jsonl.COMPLETED', 'empty.jsonl.COMPLETED', 'last.jsonl.COMPLETED']);
  });

  it('a binary file: every line goes to dead letters (invalid-encoding or malformed-json), nothing is delivered', async () => {
    const bytes = Buffer.alloc(64 * 1024);
    let x = 0x9e3779b9;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    // The reference split: LF ends a line, a CR before it is dropped, empty lines are skipped.
    const expected: string[] = [];
    let from = 0;
    for (let nl = bytes.indexOf(10); from <= bytes.length; nl = bytes.indexOf(10, from)) {
      let end = nl < 0 ? bytes.length : nl;
      if (end > from && bytes[end - 1] === 13) end--;
      if (end > from) expected.push(isUtf8(bytes.subarray(from, end)) ? 'malformed-json' : 'invalid-encoding');
      if (nl < 0) break;
      from = nl + 1;
    }
    expect(expected.length).toBeGreaterThan(100);
    const c = await run({ 'blob.bin': bytes, 'zeros.bin': Buffer.alloc(4096), 'good.jsonl': '{"i":0}\n' });
    const { delivered, dead } = await settle(c, { files: 3, delivered: 1, dead: expected.length + 1 });
    expect(delivered).toEqual(['{"i":0}']);
    const fromBlob = dead.filter((d) => d.headers['dl.detail']!.includes('(blob.bin,'));
    expect(reasons(fromBlob)).toEqual(expected);
    const fromZeros = dead.filter((d) => d.headers['dl.detail']!.includes('(zeros.bin,'));
    expect(fromZeros.map((d) => [d.body, d.headers['dl.reason']])).toEqual([['\0'.repeat(4096), 'malformed-json']]);
    expect(dead).toHaveLength(expected.length + 1);
    expect(listing(c.spool)).toEqual(['blob.bin.COMPLETED', 'good.jsonl.COMPLETED', 'zeros.bin.COMPLETED']);
  });

  it('a file appended to while it is read: every line is delivered once, then the file is quarantined as modified-after-read', async () => {
    hold.first = true;
    hold.held = false;
    const first = Array.from({ length: 25 }, (_, i) => `{"i":${i}}`);
    const c = await run({ 'growing.jsonl': `${first.join('\n')}\n` }, { processors: true });
    await waitFor('the first batch held in the pipeline', () => hold.held);
    writeFileSync(join(c.spool, 'growing.jsonl'), '{"i":25}\n{"i":26}\n', { flag: 'a' });
    hold.release();
    const { delivered, dead } = await settle(c, { files: 1, delivered: 27, dead: 0 });
    expect(delivered).toEqual(Array.from({ length: 27 }, (_, i) => `{"i":${i}}`));
    expect(dead).toEqual([]);
    expect(listing(c.spool)).toEqual([]);
    const q = quarantined(c);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatch(/^growing\.jsonl\.\d+$/);
    expect(readFileSync(join(c.spool, '.flumespool', 'quarantine', q[0]!), 'utf8').split('\n').filter(Boolean)).toHaveLength(27);
    expect(spoolStat(c, 'files_completed_total')).toBe(0);
    expect(c.logs.some((l) => l.msg === 'spooldir: file quarantined' && l.reason === 'modified-after-read')).toBe(true);
  });

  it('a reused file name: the new file is quarantined unread (name-reused), the completed one is never overwritten', async () => {
    const c = await run({ 'daily.jsonl': '{"i":0}\n{"i":1}\n' });
    await waitFor('the first file completed', () => spoolStat(c, 'files_completed_total') === 1);
    put(c.spool, 'daily.jsonl', '{"i":100}\n');
    const { delivered, dead } = await settle(c, { files: 2, delivered: 2, dead: 0 });
    expect(delivered).toEqual(['{"i":0}', '{"i":1}']);
    expect(dead).toEqual([]);
    expect(listing(c.spool)).toEqual(['daily.jsonl.COMPLETED']);
    expect(readFileSync(join(c.spool, 'daily.jsonl.COMPLETED'), 'utf8')).toBe('{"i":0}\n{"i":1}\n');
    const q = quarantined(c);
    expect(q).toHaveLength(1);
    expect(readFileSync(join(c.spool, '.flumespool', 'quarantine', q[0]!), 'utf8')).toBe('{"i":100}\n');
    expect(c.logs.some((l) => l.msg === 'spooldir: file quarantined' && l.reason === 'name-reused')).toBe(true);
  });

  it('a symlink in the spool folder pointing outside it (to a file, a directory, or the tracker) is quarantined and its target never read', async () => {
    let outside = '';
    const c = await run(
      { 'good.jsonl': '{"i":0}\n' },
      {
        source: ', recursiveDirectorySearch: true',
        before: (root, spool) => {
          outside = join(root, 'outside');
          mkdirSync(outside);
          writeFileSync(join(outside, 'secret.jsonl'), '{"secret":1}\n');
          symlinkSync(join(outside, 'secret.jsonl'), join(spool, 'abs-link.jsonl'));
          symlinkSync('../outside/secret.jsonl', join(spool, 'rel-link.jsonl'));
          mkdirSync(join(spool, 'sub'));
          symlinkSync('../../outside/secret.jsonl', join(spool, 'sub', 'deep-link.jsonl'));
          symlinkSync(outside, join(spool, 'dir-link'));
          mkdirSync(join(spool, '.flumespool'));
          writeFileSync(join(spool, '.flumespool', 'own.jsonl'), '{"tracker":1}\n');
          symlinkSync(join(spool, '.flumespool', 'own.jsonl'), join(spool, 'tracker-link.jsonl'));
        },
      },
    );
    const { delivered, dead } = await settle(c, { files: 6, delivered: 1, dead: 0 });
    expect(delivered).toEqual(['{"i":0}']);
    expect(dead).toEqual([]);
    expect(spoolStat(c, 'files_quarantined_total')).toBe(5);
    expect(quarantined(c).map((n) => n.replace(/\.\d+$/, '')).sort()).toEqual(['abs-link.jsonl', 'deep-link.jsonl', 'dir-link', 'rel-link.jsonl', 'tracker-link.jsonl']);
    // The targets are untouched: not read, not renamed, not moved.
    expect(readdirSync(outside)).toEqual(['secret.jsonl']);
    expect(readFileSync(join(outside, 'secret.jsonl'), 'utf8')).toBe('{"secret":1}\n');
    expect(readFileSync(join(c.spool, '.flumespool', 'own.jsonl'), 'utf8')).toBe('{"tracker":1}\n');
    const reasonsLogged = c.logs.filter((l) => l.msg === 'spooldir: file quarantined').map((l) => l.reason);
    expect(reasonsLogged).toEqual(Array(5).fill('outside-spool-dir'));
  });

  it('a FIFO, a dangling symlink and a directory in the spool folder are left alone without blocking the source', async () => {
    const c = await run(
      { 'good.jsonl': '{"i":0}\n' },
      {
        before: (_root, spool) => {
          expect(spawnSync('mkfifo', [join(spool, 'pipe.jsonl')]).status).toBe(0);
          symlinkSync(join(spool, 'nowhere.jsonl'), join(spool, 'dangling.jsonl'));
          mkdirSync(join(spool, 'folder.jsonl'));
        },
      },
    );
    const { delivered, dead } = await settle(c, { files: 1, delivered: 1, dead: 0 });
    expect(delivered).toEqual(['{"i":0}']);
    expect(dead).toEqual([]);
    expect(listing(c.spool)).toEqual(['dangling.jsonl', 'folder.jsonl', 'good.jsonl.COMPLETED', 'pipe.jsonl']);
    expect(spoolStat(c, 'files_quarantined_total')).toBe(0);
  });

  // Root reads any file whatever its mode, so this runs only as an unprivileged user; test/cli.test.ts covers the
  // same case as root by running the agent process as nobody.
});



// ------------------------------------------------------------------------------------------------ configuration

const BIN = resolve(import.meta.dirname, '..', 'bin', 'fintrans-agent.js');

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: resolve(import.meta.dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** `validate` on a YAML text; every problem line parsed into file, line, column, path and message. */
async function validate(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('fta-bad-config-');
  dirs.push(dir);
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, yaml);
  const r = await cli(['validate', '--conf', file], env);
  const problems = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => {
      const m = /^ {2}(\S+?):(\d+):(\d+) (.+?): (.*)$/.exec(l);
      return m ? { file: m[1]!, line: Number(m[2]), col: Number(m[3]), path: m[4]!, message: m[5]!, raw: l } : { file: '', line: 0, col: 0, path: '', message: l, raw: l };
    });
  return { ...r, file, problems };
}

/** Exit code 2, a header, every problem with file:line:column, and no stack trace anywhere. */
function expectConfigError(r: Awaited<ReturnType<typeof validate>>): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Configuration is invalid \(\d+ problems?\):\n/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.problems.length).toBeGreaterThan(0);
  for (const p of r.problems) {
    expect(p.file, p.raw).toBe(r.file);
    expect(p.line, p.raw).toBeGreaterThan(0);
  }
}

/** A minimal valid body for each built-in plugin (beside the framework keys). */
const VALID: Record<string, Record<string, unknown>> = {
  'source/spooldir': { spoolDir: './spool' },
  'source/generator': {},
  'source/kafka': { bootstrapServers: ['localhost:9092'], topics: ['t'], groupId: 'g' },
  'channel/memory': {},
  'channel/file': {},
  'sink/logger': {},
  'sink/null': {},
  'sink/file_roll': { directory: './out' },
  'sink/kafka': { bootstrapServers: ['localhost:9092'], topic: 't' },
  'sink/influxdb': { url: 'http://localhost:8086', bucket: 'b', measurement: 'm', fields: ['amount'] },
  'sink/elasticsearch': { nodes: ['http://localhost:9200'], index: 'idx' },
  'sink/hdfs': { namenodes: ['http://localhost:9870'], path: '/data' },
  'processor/timestamp': {},
  'processor/host': {},
  'processor/static': { key: 'k', value: 'v' },
  'processor/filter': { field: 'amount', exists: true },
  'processor/json-schema': { schema: { type: 'object' } },
  'processor/fraud': { annotate: true, rules: [{ id: 'big', type: 'threshold', field: 'amount', gt: 1 }] },
  'processor/aggregate': { groupBy: ['merchantId'], window: { type: 'tumbling', size: '60s' }, metrics: { n: { op: 'count' } }, emitTo: ['c'] },
};

const SECTION = { source: 'sources', channel: 'channels', sink: 'sinks', processor: 'processors' } as const;
const FRAMEWORK: Record<string, Record<string, unknown>> = { source: { channels: ['c'] }, channel: {}, sink: { channel: 'c' }, processor: {} };

type Kind = keyof typeof SECTION;
interface Comp {
  kind: Kind;
  type: string;
  name: string;
  body: Record<string, unknown>;
}

/**
 * Every built-in plugin with its full component schema, from the compiled package the command runs (dist/), so the
 * cases are generated from exactly the schemas that validate them.
 */
async function builtins(): Promise<{ kind: Kind; type: string; schema: Record<string, unknown> }[]> {
  const dist = resolve(import.meta.dirname, '..', 'dist', 'agent');
  const { PluginRegistry } = (await import(join(dist, 'registry.js'))) as typeof import('../agent/registry.ts');
  const { componentSchema } = (await import(join(dist, 'config', 'schemas.js'))) as typeof import('../agent/config/schemas.ts');
  return (await new PluginRegistry().all()).map((d) => ({ kind: d.kind as Kind, type: d.type, schema: componentSchema(d.kind, d.schema) }));
}

const validBody = (kind: Kind, type: string): Record<string, unknown> => ({ type, ...FRAMEWORK[kind], ...VALID[`${kind}/${type}`] });

/** The JSON types a property schema allows (from type, anyOf/oneOf branches, enum and const values). */
function allowedTypes(s: Record<string, any>): Set<string> | undefined {
  const out = new Set<string>();
  const add = (t: unknown) => (Array.isArray(t) ? t : [t]).forEach((x) => out.add(x === 'integer' ? 'number' : String(x)));
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (s.type) add(s.type);
  for (const b of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    const t = allowedTypes(b);
    if (!t) return undefined;
    t.forEach((x) => out.add(x));
  }
  if (s.enum) (s.enum as unknown[]).forEach((v) => out.add(typeOf(v)));
  if ('const' in s) out.add(typeOf(s.const));
  return out.size ? out : undefined;
}

/** A value whose JSON type the property does not allow, or undefined when it takes any type. */
function wrongValue(s: Record<string, any>): unknown {
  const allowed = allowedTypes(s);
  if (!allowed) return undefined;
  const candidates: [string, unknown][] = [['number', 12345], ['string', 'wrong-type'], ['boolean', true], ['object', { wrong: 1 }], ['array', [1]]];
  return candidates.find(([t]) => !allowed.has(t))?.[1];
}

/** A component in block style, one key per line, so every key's line is known. */
function component(name: string, body: Record<string, unknown>, indent = '      '): { text: string[]; lines: Record<string, number> } {
  const lines: Record<string, number> = {};
  const text = [`${indent}${name}:`];
  for (const [k, v] of Object.entries(body)) {
    lines[k] = text.length;
    text.push(`${indent}  ${k}: ${JSON.stringify(v)}`);
  }
  return { text, lines };
}

/** An agent made of components (kind/type/name/body), plus a memory channel c and a null sink draining it. */
function agentYaml(components: Comp[]): { yaml: string; lineOf: (name: string, key: string) => number } {
  const out = ['agents:', '  a:'];
  const at = new Map<string, Record<string, number>>();
  const base: Comp[] = [...components, { kind: 'channel', type: 'memory', name: 'c', body: { type: 'memory' } }, { kind: 'sink', type: 'null', name: 'drain', body: { type: 'null', channel: 'c' } }];
  // Every channel gets a sink, so an undrained channel is never one of the problems.
  for (const ch of components.filter((c) => c.kind === 'channel')) base.push({ kind: 'sink', type: 'null', name: `drain_${ch.name}`, body: { type: 'null', channel: ch.name } });
  for (const kind of ['source', 'processor', 'channel', 'sink'] as const) {
    const mine = base.filter((c) => c.kind === kind);
    if (!mine.length) continue;
    out.push(`    ${SECTION[kind]}:`);
    for (const c of mine) {
      const { text, lines } = component(c.name, c.body);
      const first = out.length + 1;
      at.set(c.name, Object.fromEntries(Object.entries(lines).map(([k, l]) => [k, first + l])));
      out.push(...text);
    }
  }
  return { yaml: `${out.join('\n')}\n`, lineOf: (name, key) => at.get(name)?.[key] ?? 0 };
}

describe('bad configuration: exit code 2, file:line:column and the fix for every problem, never a stack trace', () => {
  it('every built-in plugin is covered, and its minimal valid body validates', async () => {
    const listed = JSON.parse((await cli(['plugins', '--json'])).stdout) as { kind: string; type: string }[];
    expect(listed.map((p) => `${p.kind}/${p.type}`).sort()).toEqual(Object.keys(VALID).sort());
    const all = listed.map((p, i) => ({ kind: p.kind as Kind, type: p.type, name: `ok${i}`, body: validBody(p.kind as Kind, p.type) }));
    const r = await validate(agentYaml(all).yaml);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a wrong-typed value for every schema key of every built-in plugin is reported at its line, naming the key', async () => {
    // One component per (plugin, key), all in one agent: one run of validate reports every problem at once.
    const comps: (Comp & { key: string; value: unknown })[] = [];
    for (const def of await builtins()) {
      const schema = def.schema as { properties: Record<string, Record<string, unknown>> };
      for (const [key, s] of Object.entries(schema.properties)) {
        const value = wrongValue(s);
        // `type` is left to the known-gap test below.
        if (key === 'type' || value === undefined) continue;
        comps.push({ kind: def.kind, type: def.type, key, value, name: `w${comps.length}_${def.type.replace(/\W/g, '_')}_${key}`, body: { ...validBody(def.kind, def.type), [key]: value } });
      }
    }
    expect(comps.length).toBeGreaterThan(200);
    const { yaml, lineOf } = agentYaml(comps);
    const r = await validate(yaml);
    expectConfigError(r);
    const missing: string[] = [];
    for (const c of comps) {
      const found = r.problems.filter((p) => p.path === `agents.a.${SECTION[c.kind]}.${c.name}.${c.key}`);
      if (!found.length) missing.push(`${c.kind}/${c.type}.${c.key} = ${JSON.stringify(c.value)}: not reported`);
      for (const p of found) {
        expect(p.line, p.raw).toBe(lineOf(c.name, c.key));
        expect(p.message, p.raw).toMatch(/^(must be|invalid|needs)/);
      }
    }
    expect(missing).toEqual([]);
    // Nothing else: no problem about a component that was not given a wrong value.
    expect(r.problems.filter((p) => !comps.some((c) => p.path.startsWith(`agents.a.${SECTION[c.kind]}.${c.name}`))).map((p) => p.raw)).toEqual([]);
  });

  it('a non-string type is reported instead of silently dropping the component', async () => {
    const r = await validate(agentYaml([{ kind: 'sink', type: 'null', name: 'lost', body: { type: 12345, channel: 'c' } }]).yaml);
    expectConfigError(r);
    expect(r.problems.map((p) => p.path)).toContain('agents.a.sinks.lost.type');
  });

  it('an invalid filter regex is reported by validate', async () => {
    const r = await validate(agentYaml([{ kind: 'processor', type: 'filter', name: 'f', body: { type: 'filter', field: 'amount', regex: '[0-9' } }]).yaml);
    expectConfigError(r);
    expect(r.problems.find((p) => p.path === 'agents.a.processors.f.regex')?.message).toMatch(/regular expression "\[0-9"/);
  });

  it('a missing required key of every built-in plugin is reported at its component, naming the key and what it is for', async () => {
    const comps: (Comp & { key: string; description?: string })[] = [];
    for (const def of await builtins()) {
      const schema = def.schema as { required: string[]; properties: Record<string, { description?: string }> };
      for (const key of schema.required.filter((k) => k !== 'type')) {
        const body = Object.fromEntries(Object.entries(validBody(def.kind, def.type)).filter(([k]) => k !== key));
        comps.push({ kind: def.kind, type: def.type, key, description: schema.properties[key]?.description, name: `m${comps.length}_${def.type.replace(/\W/g, '_')}_${key}`, body });
      }
    }
    expect(comps.length).toBeGreaterThan(20);
    const { yaml, lineOf } = agentYaml(comps);
    const r = await validate(yaml);
    expectConfigError(r);
    for (const c of comps) {
      const p = r.problems.find((x) => x.path === `agents.a.${SECTION[c.kind]}.${c.name}` && x.message.startsWith(`missing required key "${c.key}"`));
      expect(p, `${c.kind}/${c.type} without ${c.key}:\n${r.stderr}`).toBeDefined();
      expect(p!.line).toBe(lineOf(c.name, 'type'));
      if (c.description) expect(p!.message).toContain(c.description.slice(0, 40));
    }
  });

  it('unknown keys at every level are reported at the key, with the valid keys and a suggestion', async () => {
    const r = await validate(`metric: {}
agents:
  a:
    sourcse: {}
    sources:
      s: { type: generator, channels: [c], rat: 10 }
    channels:
      c: { type: memory, capacityy: 10 }
    sinks:
      k: { type: kafka, channel: c, bootstrapServers: [h:9092], topic: t, sasl: { mechanism: plain, username: u, password: p, pasword: q } }
      f: { type: file_roll, channel: c, directory: ./out }
    sinkGroups:
      g: { sinks: [k, f], processor: { type: failover, priorty: {} } }
    deadLetter: { channel: c, chanel: c }
`);
    expectConfigError(r);
    const at = (path: string) => r.problems.find((p) => p.path === path);
    const expected: [string, number, RegExp][] = [
      ['metric', 1, /^unknown key "metric"; did you mean "metrics"\? Valid keys: metrics, .*agents\.$/],
      ['agents.a.sourcse', 4, /^unknown key "sourcse"; did you mean "sources"\?/],
      ['agents.a.sources.s.rat', 6, /^unknown key "rat"; did you mean "rate"\? Valid keys: .*batchSize/],
      ['agents.a.channels.c.capacityy', 8, /^unknown key "capacityy"; did you mean "capacity"\?/],
      ['agents.a.sinks.k.sasl.pasword', 10, /^unknown key "pasword"; did you mean "password"\?/],
      ['agents.a.sinkGroups.g.processor.priorty', 13, /^unknown key "priorty"; did you mean "priority"\?/],
      ['agents.a.deadLetter.chanel', 14, /^unknown key "chanel"; did you mean "channel"\?/],
    ];
    for (const [path, line, message] of expected) {
      expect(at(path), `${path}\n${r.stderr}`).toBeDefined();
      expect(at(path)!.line, at(path)!.raw).toBe(line);
      expect(at(path)!.message).toMatch(message);
    }
    // The column points at the key itself, not at its map.
    expect(at('agents.a.sources.s.rat')!.col).toBe('      s: { type: generator, channels: [c], rat: 10 }'.indexOf(' rat:') + 2);
  });

  it('dangling references: channels, processors, the dead-letter channel, sink-group members, selector channels', async () => {
    const r = await validate(`agents:
  a:
    sources:
      s:
        type: generator
        channels: [c, chanel2]
        processors: [stamp, nope]
        selector: { type: multiplexing, header: h, mapping: { x: [c3] }, default: [c] }
    processors:
      stamp: { type: timestamp }
    channels:
      c: { type: memory }
    sinks:
      k: { type: null, channel: cc }
      l: { type: null, channel: c }
    sinkGroups:
      g: { sinks: [l, ghost], processor: { type: failover } }
    deadLetter: { channel: dlq }
`);
    expectConfigError(r);
    const text = r.problems.map((p) => `${p.line} ${p.path}: ${p.message}`).join('\n');
    expect(text).toMatch(/^6 agents\.a\.sources\.s\.channels\.1: channel "chanel2" is not defined\. Defined channels: c\.$/m);
    expect(text).toMatch(/^7 agents\.a\.sources\.s\.processors\.1: processor "nope" is not defined\. Defined processors: stamp\.$/m);
    expect(text).toMatch(/^8 agents\.a\.sources\.s\.selector\.mapping\.x\.0: selector channel "c3" is not one of this source's channels/m);
    expect(text).toMatch(/^14 agents\.a\.sinks\.k\.channel: channel "cc" is not defined; did you mean "c"\?/m);
    expect(text).toMatch(/^17 agents\.a\.sinkGroups\.g\.sinks\.1: .*"ghost"/m);
    expect(text).toMatch(/^18 agents\.a\.deadLetter\.channel: .*"dlq" is not defined/m);
  });

  it('invalid regular expressions are reported at their key, whichever plugin takes them', async () => {
    const r = await validate(`agents:
  a:
    sources:
      s: { type: spooldir, spoolDir: ./spool, channels: [c], includePattern: "([a-z]", ignorePattern: "*.tmp" }
      k: { type: kafka, bootstrapServers: [h:9092], topicsRegex: "tx-(", groupId: g, channels: [c] }
    channels:
      c: { type: memory }
    sinks:
      n: { type: null, channel: c }
`);
    expectConfigError(r);
    const at = (path: string) => r.problems.find((p) => p.path === path);
    for (const [path, line, value] of [
      ['agents.a.sources.s.includePattern', 4, '([a-z]'],
      ['agents.a.sources.s.ignorePattern', 4, '*.tmp'],
      ['agents.a.sources.k.topicsRegex', 5, 'tx-('],
    ] as const) {
      expect(at(path), `${path}\n${r.stderr}`).toBeDefined();
      expect(at(path)!.line).toBe(line);
      expect(at(path)!.message).toContain(JSON.stringify(value));
      expect(at(path)!.message).toMatch(/regular expression/);
    }
  });

  it('an invalid duration for every duration key of every plugin and of the agent is reported with the accepted forms', async () => {
    const defs = await builtins();
    const isDuration = (s: Record<string, any>) => Array.isArray(s.anyOf) && s.anyOf.some((b: { pattern?: string }) => typeof b.pattern === 'string' && b.pattern.includes('ms|s|m|h|d'));
    const comps: Comp[] = [];
    for (const def of defs) {
      const schema = def.schema as { properties: Record<string, Record<string, any>> };
      for (const [key, s] of Object.entries(schema.properties)) {
        if (!isDuration(s)) continue;
        comps.push({ kind: def.kind, type: def.type, name: `d${comps.length}_${def.type.replace(/\W/g, '_')}_${key}`, body: { ...validBody(def.kind, def.type), [key]: '10 minutes' } });
      }
    }
    expect(comps.length).toBeGreaterThanOrEqual(8);
    const { yaml, lineOf } = agentYaml(comps);
    const r = await validate(`${yaml}    shutdownTimeout: soon\n    tickInterval: -1s\n`);
    expectConfigError(r);
    for (const c of comps) {
      const key = c.name.split('_').at(-1)!;
      const p = r.problems.find((x) => x.path === `agents.a.${SECTION[c.kind]}.${c.name}.${key}`);
      expect(p, `${c.name}\n${r.stderr}`).toBeDefined();
      expect(p!.line).toBe(lineOf(c.name, key));
      expect(p!.message).toBe('invalid duration "10 minutes": use a number or a string such as "500ms", "30s", "5m", "1h".');
    }
    expect(r.problems.find((p) => p.path === 'agents.a.shutdownTimeout')?.message).toMatch(/^invalid duration "soon"/);
    expect(r.problems.find((p) => p.path === 'agents.a.tickInterval')?.message).toMatch(/^invalid duration "-1s"/);
  });

  it('a charset the runtime cannot decode is a config error at its line, not a source failing at run', async () => {
    const r = await validate(agentYaml([{ kind: 'source', type: 'spooldir', name: 's', body: { type: 'spooldir', channels: ['c'], spoolDir: './spool', inputCharset: 'EBCDIC-klingon' } }]).yaml);
    expectConfigError(r);
    expect(r.problems.map((p) => [p.line, p.path, p.message])).toEqual([[8, 'agents.a.sources.s.inputCharset', '"EBCDIC-klingon" is not an encoding this runtime can decode: use a WHATWG label such as "UTF-8", "latin1" or "ascii".']]);
  });

  it('unset ${ENV} references are reported at their exact line and column, with the fix', async () => {
    const yaml = `agents:
  a:
    sources:
      s: { type: generator, channels: [c], rate: \${FTA_TEST_RATE_UNSET}, count: \${FTA_TEST_EMPTY} }
    channels:
      c: { type: memory, capacity: \${FTA_TEST_CAP:-100} }
    sinks:
      k: { type: influxdb, channel: c, url: "http://\${FTA_TEST_HOST_UNSET}:8086", bucket: b, measurement: m, fields: [x], token: \${FTA_TEST_TOKEN_UNSET} }
# \${FTA_TEST_IN_A_COMMENT} is not substituted
`;
    const r = await validate(yaml, { FTA_TEST_EMPTY: '' });
    expectConfigError(r);
    const lines = yaml.split('\n');
    const at = (name: string) => {
      const line = lines.findIndex((l) => l.includes(`\${${name}}`));
      return [line + 1, lines[line]!.indexOf(`\${${name}}`) + 1, `environment variable ${name} is not set: export it, or give a default with \${${name}:-value}.`];
    };
    expect(r.problems.map((p) => [p.line, p.col, p.message])).toEqual([at('FTA_TEST_RATE_UNSET'), at('FTA_TEST_EMPTY'), at('FTA_TEST_HOST_UNSET'), at('FTA_TEST_TOKEN_UNSET')]);
  });

  it('broken YAML, tabs, duplicate keys, a list instead of a map, no agents, bad names, empty values: exit 2 with a position, no stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['agents:\n  a: [unclosed\n', /:3:1 \(top level\): YAML syntax error: Flow sequence/],
      ['agents:\n  a:\n    channels:\n      c: { type: memory }\n      c: { type: memory }\n', /:5:7 \(top level\): YAML syntax error: Map keys must be unique/],
      ['agents:\n\tb: 1\n', /:2:1 \(top level\): YAML syntax error: Tabs are not allowed/],
      ['- a\n- b\n', /:1:1 \(top level\): must be object, got \["a","b"\]\./],
      ['agents: 7\n', /:1:9 agents: must be object, got 7\./],
      ['agents: {}\n', /:1:9 agents: must have at least 1 entry \(Agents by name; --name picks one\.\)\./],
      ['agents:\n  a:\n    channels:\n      "bad name": { type: memory }\n', /:4:7 agents\.a\.channels\.bad name: invalid name "bad name": names may use only letters, digits, "_", "\." and "-"\./],
      ['agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: { s: { type: file_roll, channel: c, directory: "" } }\n', /:4:59 agents\.a\.sinks\.s\.directory: must not be empty\./],
    ];
    const results = await Promise.all(cases.map(([yaml]) => validate(yaml)));
    results.forEach((r, i) => {
      expectConfigError(r);
      expect(r.stderr, cases[i]![0]).toMatch(cases[i]![1]);
    });
  });

  it('an empty file or one of only comments: the problem is at 1:1', async () => {
    const results = await Promise.all(['', '# only a comment\n'].map((yaml) => validate(yaml)));
    for (const r of results) {
      expectConfigError(r);
      expect(r.stderr).toMatch(/:1:1 \(top level\): missing required key "agents" \(Agents by name/);
    }
  });

  it('an alias without its anchor is a config error with a position', async () => {
    const r = await validate('agents:\n  a:\n    channels:\n      c: *nowhere\n');
    expectConfigError(r);
  });
});

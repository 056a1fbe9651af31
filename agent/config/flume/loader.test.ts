import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../load.ts';
import { ConfigError, formatProblem } from '../problems.ts';
import { validateConfig } from '../validate.ts';
import { looksLikeFlume } from './loader.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures/flume');
const HADOOP = { HADOOP_CONF_DIR: join(FIXTURES, 'hadoop-conf') };
const dir = mkdtempSync(join(tmpdir(), 'fta-flume-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = join(dir, 'agent.conf');

async function problems(conf: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await validateConfig(parseConfigText(conf, FILE, env));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected problems');
}

const ok = `a.sources = s
a.channels = c
a.sinks = k
a.sources.s.type = spooldir
a.sources.s.spoolDir = /spool
a.sources.s.channels = c
a.channels.c.type = memory
a.channels.c.capacity = 1000
a.sinks.k.type = null
a.sinks.k.channel = c
`;

describe('loading a Flume file', () => {
  it('is recognised by .properties, or by <agent>.sources lines in any file but .yaml/.yml/.json', () => {
    expect(looksLikeFlume('/x/agent.conf', ok)).toBe(true);
    expect(looksLikeFlume('/x/agent.properties', 'a.b = 1')).toBe(true);
    expect(looksLikeFlume('/x/agent', 'agent.channels: c1\n')).toBe(true);
    expect(looksLikeFlume('/x/agent.conf', '# no lists yet\na.sinks.k.type = null\n')).toBe(true);
    expect(looksLikeFlume('/x/agent.yaml', ok)).toBe(false);
    expect(looksLikeFlume('/x/agent.conf', 'agents:\n  a:\n    sources: {}\n')).toBe(false);
  });

  it('runs both seed 003 agents unchanged: spooldir → memory → Kafka, and Kafka → memory → HDFS via $HADOOP_CONF_DIR', async () => {
    const one = await validateConfig(parseConfigText(readFileSync(join(FIXTURES, 'flumekafkaAgent.conf'), 'utf8'), join(dir, 'flumekafkaAgent.conf'), HADOOP));
    const a1 = one.agents.agent!;
    expect(a1.sources[0]!.config).toMatchObject({ type: 'spooldir', spoolDir: 'flumetst', fileHeader: true, format: 'text', channels: ['mem_channel'] });
    expect(a1.channels[0]!.config).toMatchObject({ type: 'memory', capacity: 10000, transactionCapacity: 10000 });
    expect(a1.sinks[0]!.config).toMatchObject({ type: 'kafka', topic: 'finance', bootstrapServers: ['127.0.0.1:9092'], batchSize: 100, format: 'raw' });
    const loaded = parseConfigText(readFileSync(join(FIXTURES, 'kafka-flume-hdfs.conf'), 'utf8'), join(dir, 'kafka-flume-hdfs.conf'), HADOOP);
    expect(loaded.warnings!.map(formatProblem)).toEqual([expect.stringMatching(/kafka-flume-hdfs\.conf:11:1 .*batchSize 5000 .* Running it with batchSize 100/)]);
    const a2 = (await validateConfig(loaded)).agents.agent!;
    expect(a2.sources[0]!.config).toMatchObject({ type: 'kafka', topics: ['weather'], groupId: 'flume', batchSize: 100, batchDurationMillis: 2000, format: 'raw', startFrom: 'latest' });
    expect(a2.sinks[0]!.config).toMatchObject({ type: 'hdfs', namenodes: ['http://127.0.0.1:9870'], path: '/flume', round: true, roundValue: 10, roundUnit: 'minute', fileType: 'DataStream', batchSize: 100 });
  });

  it('validates a file with every supported component type, interceptor, selector and sink group', async () => {
    const file = join(FIXTURES, 'all-components.conf');
    const loaded = parseConfigText(readFileSync(file, 'utf8'), file, {});
    expect(loaded.warnings).toEqual([]);
    const a = (await validateConfig(loaded)).agents.a1!;
    const types = (list: { name: string; type: string }[]) => Object.fromEntries(list.map((c) => [c.name, c.type]));
    expect(types(a.sources)).toEqual({ r1: 'spooldir', r2: 'kafka', r3: 'spooldir' });
    expect(types(a.processors)).toEqual({ ts: 'timestamp', st: 'static', h: 'host' });
    expect(types(a.channels)).toEqual({ c1: 'file', c2: 'memory', c3: 'memory' });
    expect(types(a.sinks)).toEqual({ k1: 'hdfs', k2: 'logger', k3: 'null', k4: 'file_roll', k5: 'kafka' });
    expect(a.sources[0]!.config.selector).toEqual({ type: 'multiplexing', header: 'region', mapping: { eu: ['c1'] }, default: ['c2'] });
    expect(a.sinkGroups.map((g) => [g.name, g.type, g.sinks])).toEqual([['g1', 'load_balance', ['k2', 'k3']], ['g2', 'failover', ['k4', 'k5']]]);
  });

  it('reports what validation finds at the .conf line: the value\'s column for bad values, the key\'s for the rest', async () => {
    const errs = await problems(`${ok}a.channels.c.transactionCapacity = lots\na.sinks.k.batchSize = 0\na.sources.s.consumeOrder = newest\n`);
    expect(errs).toEqual([
      expect.stringMatching(/agent\.conf:13:28 agents\.a\.sources\.s\.consumeOrder: must be one of "oldest", "youngest", "random"/),
      expect.stringMatching(/agent\.conf:11:36 agents\.a\.channels\.c\.transactionCapacity: must be integer/),
      expect.stringMatching(/agent\.conf:12:23 agents\.a\.sinks\.k\.batchSize: must be >= 1/),
    ]);
  });

  it('reports wiring problems and plugin lints at the .conf line', async () => {
    const sink = (fileType: string) => ok.replace('a.sinks.k.channel = c', 'a.sinks.k.channel = cc').replace('a.sinks.k.type = null', `a.sinks.k.type = hdfs\na.sinks.k.hdfs.path = hdfs://nn:8020/x/%Q\na.sinks.k.hdfs.fileType = ${fileType}`);
    expect(await problems(sink('SequenceFile'))).toEqual([
      expect.stringMatching(/agent\.conf:11:27 agents\.a\.sinks\.k\.fileType: must be one of "DataStream", "CompressedStream"; got "SequenceFile"/),
      expect.stringMatching(/agent\.conf:12:21 agents\.a\.sinks\.k\.channel: channel "cc" is not defined; did you mean "c"\?/),
      expect.stringMatching(/agent\.conf:7:1 agents\.a\.channels\.c: channel "c" is not drained by any sink/),
    ]);
    expect(await problems(sink('DataStream'))).toContainEqual(expect.stringMatching(/agent\.conf:10:23 agents\.a\.sinks\.k\.path: .*%Q/));
  });

  it('sink groups validate as the agent\'s sinkGroups, with their problems at the .conf line', async () => {
    const group = (priority: string) =>
      `${ok.replace('a.sinks = k', 'a.sinks = k k2')}a.sinks.k2.type = logger\na.sinks.k2.channel = c\na.sinkgroups = g\na.sinkgroups.g.sinks = k k2
a.sinkgroups.g.processor.type = failover\na.sinkgroups.g.processor.priority.k = ${priority}\na.sinkgroups.g.processor.maxpenalty = 10000\n`;
    const resolved = await validateConfig(parseConfigText(group('10'), FILE, {}));
    expect(resolved.agents.a!.sinkGroups).toEqual([expect.objectContaining({ name: 'g', sinks: ['k', 'k2'], type: 'failover', priority: { k: 10 }, maxPenaltyMs: 10_000 })]);
    expect(await problems(group('high'))).toEqual([expect.stringMatching(/agent\.conf:16:39 agents\.a\.sinkGroups\.g\.processor\.priority\.k: must be integer/)]);
  });

  it('a ${env:NAME} that is not set is an error at its .conf line; a set one is substituted and redactable', async () => {
    const conf = ok.replace('a.sources.s.spoolDir = /spool', 'a.sources.s.spoolDir = ${env:SPOOL}');
    expect(await problems(conf)).toEqual([expect.stringMatching(/agent\.conf:5:\d+ .*environment variable SPOOL is not set/)]);
    const loaded = parseConfigText(conf, FILE, { SPOOL: '/secret/spool' });
    expect((await validateConfig(loaded)).agents.a!.sources[0]!.config.spoolDir).toBe('/secret/spool');
    expect(loaded.envValues.has('/secret/spool')).toBe(true);
  });

  it('loadConfig translates only the named agent and emits the warnings as process warnings', async () => {
    writeFileSync(FILE, `${ok}a.channels.c.keep-alive = 3\na.channels.c.byteCapacityBufferPercentage = 20\nother.sources = x\n`);
    const seen: string[] = [];
    const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const loaded = loadConfig(FILE, {}, 'a');
      expect(Object.keys((loaded.value as any).agents)).toEqual(['a']);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(seen).toEqual([expect.stringMatching(/^FlumeConfigWarning: .*agent\.conf:12:1 .*byteCapacityBufferPercentage has no effect/)]);
  });
});

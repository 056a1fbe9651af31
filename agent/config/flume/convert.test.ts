import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.ts';
import { ConfigError, formatProblem } from '../problems.ts';
import { validateConfig } from '../validate.ts';
import { convertCommand } from './convert.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures/flume');
const env = { HADOOP_CONF_DIR: join(FIXTURES, 'hadoop-conf') };
const dir = mkdtempSync(join(tmpdir(), 'fta-flume-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function convert(file: string, name?: string, e: NodeJS.ProcessEnv = env): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const code = await convertCommand(file, name, out, { env: e, cwd: dir });
  return { code, text };
}

async function problems(file: string, name?: string): Promise<string[]> {
  try {
    await convert(file, name);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected problems');
}

describe('fintrans-agent convert', () => {
  for (const seed of ['flumekafkaAgent.conf', 'kafka-flume-hdfs.conf']) {
    it(`prints YAML for seed 003's ${seed} that validates to the same agent as the .conf itself`, async () => {
      copyFileSync(join(FIXTURES, seed), join(dir, seed));
      const { code, text } = await convert(seed, 'agent');
      expect(code).toBe(0);
      expect(text).toMatch(/^# Converted from the Flume configuration /);
      const yamlFile = join(dir, seed.replace('.conf', '.yaml'));
      writeFileSync(yamlFile, text);
      const fromYaml = await validateConfig(parseConfigText(text, yamlFile, env));
      const fromConf = await validateConfig(parseConfigText(text, join(dir, seed), env));
      expect(fromYaml.agents).toEqual(fromConf.agents);
      expect(fromYaml.agents.agent!.sinks).toHaveLength(1);
    });
  }

  it('keeps ${env:NAME} as ${NAME}, so secrets stay in the environment', async () => {
    writeFileSync(
      join(dir, 'secret.conf'),
      `a.sources = s\na.channels = c\na.sinks = k\na.sources.s.type = spooldir\na.sources.s.spoolDir = /spool\na.sources.s.channels = c\na.channels.c.type = memory
a.sinks.k.type = org.apache.flume.sink.kafka.KafkaSink\na.sinks.k.channel = c\na.sinks.k.kafka.bootstrap.servers = k:9092\na.sinks.k.kafka.topic = t
a.sinks.k.kafka.producer.security.protocol = SASL_PLAINTEXT
a.sinks.k.kafka.producer.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="etl" password="\${env:KAFKA_PASSWORD}";\n`,
    );
    const { text } = await convert('secret.conf', undefined, { KAFKA_PASSWORD: 'hunter2' });
    expect(text).toMatch(/password: "\$\{KAFKA_PASSWORD\}" +# line 13/);
    expect(text).not.toContain('hunter2');
  });

  it('throws ConfigError for translation problems at their lines, a YAML file, and an agent the file does not define', async () => {
    writeFileSync(join(dir, 'bad.conf'), 'a.sources = s\na.channels = c\na.sources.s.type = avro\na.channels.c.type = memory\n');
    expect(await problems('bad.conf')).toEqual([expect.stringMatching(/bad\.conf:3:1 a\.sources\.s\.type: source type "avro" is not supported/)]);
    writeFileSync(join(dir, 'x.yaml'), 'agents: {}\n');
    expect(await problems('x.yaml')).toEqual([expect.stringMatching(/x\.yaml .*not a Flume properties file/)]);
    copyFileSync(join(FIXTURES, 'flumekafkaAgent.conf'), join(dir, 'one.conf'));
    expect(await problems('one.conf', 'a1')).toEqual([expect.stringMatching(/no Flume agent named "a1": the file defines agent/)]);
  });
});

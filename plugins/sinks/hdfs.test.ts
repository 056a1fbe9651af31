import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/config/problems.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { PluginRegistry } from '../../agent/registry.ts';
import hdfs from './hdfs.ts';

const registry = new PluginRegistry();
registry.register(hdfs);
const conf = (sink: string) =>
  `agents:\n  a:\n    sources: { g: { type: generator, channels: [c] } }\n    channels: { c: { type: memory } }\n    sinks: { h: { type: hdfs, channel: c, namenodes: [http://127.0.0.1:9870], ${sink} } }\n`;

async function validate(yaml: string): Promise<{ config?: Record<string, unknown>; problems: string }> {
  try {
    const resolved = await validateConfig(parseConfigText(yaml, '/tmp/h.yaml', {}), registry);
    return { config: resolved.agents.a!.sinks[0]!.config, problems: '' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problems: e.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n') };
  }
}

describe('hdfs sink configuration', () => {
  it('fills the defaults, with rolls sized for HDFS rather than Flume\'s tiny files', async () => {
    const { config, problems } = await validate(conf('path: /flume/%Y%m%d/%H%M, round: true, roundValue: 10, roundUnit: minute, timestampField: transaction_date'));
    expect(problems).toBe('');
    expect(config).toMatchObject({
      filePrefix: 'FlumeData', fileSuffix: '', inUsePrefix: '', inUseSuffix: '.tmp', rollInterval: 30, rollSize: 134_217_728, rollCount: 0, idleTimeout: 0,
      batchSize: 1000, fileType: 'DataStream', codeC: 'gzip', timeZone: 'UTC', useLocalTimeStamp: false, maxOpenFiles: 5000, callTimeout: 30_000,
    });
    expect(config!.user).toBeUndefined();
  });

  it('documents every key and refuses unknown ones, such as Flume\'s hdfs. prefix', async () => {
    const props = (hdfs.schema as { properties: Record<string, { description?: string }> }).properties;
    for (const [key, s] of Object.entries(props)) expect(s.description?.length, key).toBeGreaterThan(15);
    expect((await validate(conf('path: /f, hdfs.rollSize: 10'))).problems).toMatch(/hdfs\.rollSize/);
    expect((await validate(conf('path: flume/%Y'))).problems).toMatch(/^5:\d+ "flume\/%Y" is not absolute/);
    expect((await validate(conf('path: /f, fileType: SequenceFile'))).problems).toMatch(/must be one of "DataStream", "CompressedStream"; got "SequenceFile"/);
    expect((await validate(conf('path: /f, filePrefix: "a/b"'))).problems).toMatch(/^5:\d+ "a\/b" may not contain "\/" or "%"/);
    const nn = `agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: { h: { type: hdfs, channel: c, namenodes: [hdfs://nn:8020], path: /f } }\n`;
    expect((await validate(nn)).problems).toMatch(/^4:\d+ "hdfs:\/\/nn:8020" is not a NameNode HTTP address such as http:\/\/nn1:9870/);
  });

  it('reports bad escapes, zones and combinations at the key, in one pass', async () => {
    const { problems } = await validate(conf('path: "/f/%Q", timeZone: Mars/Base, inUseSuffix: ""'));
    expect(problems).toMatch(/unknown time zone "Mars\/Base"/);
    const more = await validate(conf('path: "/f/%Q", inUseSuffix: "", roundUnit: hour, roundValue: 30, useLocalTimeStamp: true, timestampField: t'));
    expect(more.problems).toMatch(/unknown escape "%Q"/);
    expect(more.problems).toMatch(/inUsePrefix and inUseSuffix are both empty/);
    expect(more.problems).toMatch(/roundValue must be at most 24/);
    expect(more.problems).toMatch(/timestampField has no effect with useLocalTimeStamp/);
    expect((await validate(conf('path: /f, inUsePrefix: _, inUseSuffix: ""'))).problems).toBe('');
  });
});

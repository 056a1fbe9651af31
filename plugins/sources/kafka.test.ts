import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/config/problems.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { recordingSourceContext } from '../../agent/testing/context.ts';
import kafkaSource from './kafka.ts';

const conf = (keys: string) =>
  `agents:\n  a:\n    sources: { k: { type: kafka, bootstrapServers: [127.0.0.1:9092], topics: [t], channels: [c], ${keys} } }\n    channels: { c: { type: memory } }\n    sinks: { n: { type: null, channel: c } }\n`;
async function problems(yaml: string): Promise<string> {
  try {
    await validateConfig(parseConfigText(yaml, '/tmp/k.yaml', {}));
    return '';
  } catch (e) {
    return (e as ConfigError).problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n');
  }
}

describe('kafka source offsetCommit', () => {
  it('accepts source (the default) and sink, and refuses read_uncommitted consumption with sink', async () => {
    expect(await problems(conf('offsetCommit: sink'))).toBe('');
    expect(await problems(conf('offsetCommit: source, consumer: { readUncommitted: true }'))).toBe('');
    expect(await problems(conf('offsetCommit: sink, consumer: { readUncommitted: true }'))).toMatch(/^3:\d+ offsetCommit: sink reads only committed records .*remove consumer.readUncommitted/);
    expect(await problems(conf('offsetCommit: broker'))).toMatch(/must be one of "source", "sink"/);
  });

  it('with offsetCommit: sink, fails with a config error (before touching the broker) when its agent has no exactlyOnce kafka sink', async () => {
    const ctx = recordingSourceContext('kafka');
    const source = await kafkaSource.create(
      { bootstrapServers: ['127.0.0.1:1'], clientId: 't', connectionTimeoutMs: 100, requestTimeoutMs: 100, topics: ['t'], groupId: 'g', batchSize: 10, batchDurationMillis: 10, startFrom: 'earliest', format: 'json', setTopicHeader: true, topicHeader: 'topic', partitionHeader: 'partition', offsetHeader: 'offset', keyHeader: 'key', timestampHeader: 'timestamp', consumer: {}, offsetCommit: 'sink' },
      ctx,
    );
    await expect(source.run(ctx)).rejects.toMatchObject({ code: 'FTA_CONFIG_INVALID', message: expect.stringMatching(/agent "test" has none: add one, or set offsetCommit: source/) });
    await source.close?.();
  });
});

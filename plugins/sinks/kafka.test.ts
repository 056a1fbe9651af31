import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/config/problems.ts';
import { validateConfig } from '../../agent/config/validate.ts';
import { isPermanentRecordError } from './kafka.ts';
import { TOPIC_NAME } from './kafka/records.ts';

const conf = (sink: string) => `agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: { k: { type: kafka, channel: c, bootstrapServers: [127.0.0.1:9092], ${sink} } }\n`;
async function problems(yaml: string): Promise<string> {
  try {
    await validateConfig(parseConfigText(yaml, '/tmp/k.yaml', {}));
    return '';
  } catch (e) {
    return (e as ConfigError).problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n');
  }
}

describe('kafka sink configuration', () => {
  it('requires idempotent: false with acks 1 or 0, at the line of the sink', async () => {
    expect(await problems(conf('topic: t, acks: 1'))).toMatch(/^4:\d+ acks 1 needs idempotent: false \(the idempotent producer requires acks: all\)/);
    expect(await problems(conf('topic: t, acks: 1, idempotent: false'))).toBe('');
    expect(await problems(conf('topic: t'))).toBe('');
  });

  it('rejects an unknown compression and a missing topic', async () => {
    const p = await problems(conf('compression: brotli'));
    expect(p).toMatch(/missing required key "topic"/);
    expect(p).toMatch(/must be one of "none", "gzip", "snappy", "lz4", "zstd"/);
  });
});

describe('kafka sink exactlyOnce configuration', () => {
  it('needs the idempotent producer and acks all, and owns the producer\'s transactional options', async () => {
    expect(await problems(conf('topic: t, exactlyOnce: true'))).toBe('');
    expect(await problems(conf('topic: t, exactlyOnce: true, transactionalId: orders-host1, eventsWithoutOffsets: send'))).toBe('');
    expect(await problems(conf('topic: t, exactlyOnce: true, idempotent: false'))).toMatch(/exactlyOnce needs the idempotent producer: remove idempotent: false/);
    expect(await problems(conf('topic: t, exactlyOnce: true, acks: 1, idempotent: false'))).toMatch(/exactlyOnce needs acks: all .*remove acks: 1/);
    expect(await problems(conf('topic: t, exactlyOnce: true, producer: { transactionalId: x, maxInFlightRequests: 5 }'))).toMatch(
      /exactlyOnce sets producer.transactionalId itself \(use the transactionalId key\)[^]*exactlyOnce sets producer.maxInFlightRequests itself/,
    );
  });

  it('refuses the exactlyOnce keys without exactlyOnce, and unknown eventsWithoutOffsets values', async () => {
    expect(await problems(conf('topic: t, transactionalId: x'))).toMatch(/transactionalId is used only with exactlyOnce: true/);
    expect(await problems(conf('topic: t, eventsWithoutOffsets: send'))).toMatch(/eventsWithoutOffsets applies only with exactlyOnce: true/);
    expect(await problems(conf('topic: t, exactlyOnce: true, eventsWithoutOffsets: drop'))).toMatch(/must be one of "reject", "send"/);
  });
});

describe('kafka errors', () => {
  it('treats only record- or topic-level broker errors as permanent, wherever they sit in the cause chain', () => {
    expect(isPermanentRecordError({ type: 'MESSAGE_TOO_LARGE' })).toBe(true);
    expect(isPermanentRecordError({ name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, originalError: { type: 'INVALID_TOPIC_EXCEPTION' } })).toBe(true);
    expect(isPermanentRecordError({ name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, originalError: { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' } })).toBe(false);
    expect(isPermanentRecordError({ type: 'LEADER_NOT_AVAILABLE' })).toBe(false);
    expect(isPermanentRecordError(new Error('socket hang up'))).toBe(false);
  });

  it('accepts topic names as the broker does: "." and ".." are refused, names merely made of dots are not', () => {
    for (const t of ['.', '..', 'has space', 'x'.repeat(250), '']) expect(TOPIC_NAME.test(t), t).toBe(false);
    for (const t of ['...', 'a.b', '..a', 'x'.repeat(249), 'A_b-1']) expect(TOPIC_NAME.test(t), t).toBe(true);
  });
});

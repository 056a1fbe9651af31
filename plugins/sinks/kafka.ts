/**
 * The `kafka` sink: one sendBatch per channel batch, acknowledged by the brokers (acks=all by default, idempotent
 * producer) before the channel commits. A failure rolls the batch back; a record the broker refuses for good
 * (too large, invalid topic) is isolated by splitting the batch and goes to dead letters instead of blocking.
 */
import kafkajs, { type Message, type Producer } from 'kafkajs';
import { AgentError, definePlugin, type Event, type WriteResult } from '../../agent/index.ts';
import { connectionSchema, createKafka, type ConnectionConfig } from '../shared/kafka-client.ts';
import { COMPRESSION } from '../shared/kafka-codecs.ts';
import { compileTemplate } from '../shared/template.ts';

interface KafkaSinkConfig extends ConnectionConfig {
  topic: string;
  key?: string;
  batchSize: number;
  acks: 'all' | 1 | 0;
  compression: keyof typeof COMPRESSION;
  idempotent: boolean;
  headers: string[];
  format: 'json' | 'raw';
  maxMessageBytes: number;
  createTopics?: { partitions: number; replicationFactor: number };
  producer: Record<string, unknown>;
}

const { Partitioners } = kafkajs;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Broker error types that concern a record or topic and will never succeed on retry. */
const PERMANENT = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_TOPIC_EXCEPTION', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_REQUIRED_ACKS']);

/**
 * kafkajs marks "retries exhausted" as non-retriable even when the cause was a lost connection, so the decision is
 * made here from the broker's error type anywhere in the cause chain; everything else is transient.
 */
export function isPermanentRecordError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { type?: string; originalError?: unknown; cause?: unknown; errors?: unknown[] };
  if (e.type && PERMANENT.has(e.type)) return true;
  return [e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])].some((c) => isPermanentRecordError(c, depth + 1));
}

function transient(error: unknown): AgentError {
  return new AgentError('FTA_KAFKA_SEND', `Kafka send failed: ${(error as Error).message}`, { retriable: true, cause: error });
}

type Rejected = NonNullable<WriteResult['rejected']>;

export default definePlugin<'sink', KafkaSinkConfig>({
  kind: 'sink',
  type: 'kafka',
  description: 'Writes events to Kafka topics; the channel commits only after the brokers acknowledged every record.',
  secrets: ['sasl.password'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['bootstrapServers', 'topic'],
    properties: {
      ...connectionSchema,
      topic: { type: 'string', minLength: 1, description: 'Target topic; may use %{header} and %[field] (an event whose value is missing goes to dead letters).' },
      key: { type: 'string', description: 'Field whose value becomes the record key (e.g. merchantId), so keyed work stays in one partition.' },
      batchSize: { type: 'integer', minimum: 1, default: 1000, description: 'Events per channel transaction and per sendBatch.' },
      acks: { enum: ['all', 1, 0], default: 'all', description: 'Broker acknowledgements required: all (no loss when a leader fails), 1, or 0.' },
      compression: { enum: Object.keys(COMPRESSION), default: 'none', description: 'Record batch compression.' },
      idempotent: { type: 'boolean', default: true, description: 'Idempotent producer: broker-side deduplication of retried sends (needs acks all).' },
      headers: { type: 'array', items: { type: 'string' }, default: [], description: 'Event headers copied to Kafka record headers.' },
      format: { enum: ['json', 'raw'], default: 'json', description: 'json: the event body as JSON text; raw: the body bytes as they are.' },
      maxMessageBytes: { type: 'integer', minimum: 1, default: 1000000, description: 'Records larger than this go to dead letters (reason too-large) instead of failing the batch; match the broker\'s message.max.bytes.' },
      createTopics: {
        type: 'object',
        additionalProperties: false,
        required: ['partitions'],
        description: 'Create the topic on start when it does not exist (only for a topic without substitutions).',
        properties: {
          partitions: { type: 'integer', minimum: 1, description: 'Partitions of the new topic.' },
          replicationFactor: { type: 'integer', minimum: 1, default: 1, description: 'Replicas per partition.' },
        },
      },
      producer: { type: 'object', default: {}, description: 'Extra kafkajs producer options (e.g. { "transactionTimeout": 30000 }).' },
    },
  },
  lint(config) {
    return config.idempotent && config.acks !== 'all' ? [{ key: 'acks', message: `acks ${config.acks} needs idempotent: false (the idempotent producer requires acks: all).` }] : [];
  },
  create(config, ctx) {
    const kafka = createKafka(config, ctx);
    const topicOf = compileTemplate(config.topic);
    if (topicOf.constant !== undefined && !TOPIC_NAME.test(topicOf.constant)) throw new Error(`"${config.topic}" is not a valid Kafka topic name (letters, digits, . _ - up to 249).`);
    const acks = config.acks === 'all' ? -1 : config.acks;
    const compression = COMPRESSION[config.compression];
    let producer: Producer | undefined;

    const send = (topicMessages: { topic: string; messages: Message[] }[]) => producer!.sendBatch({ topicMessages, acks, compression });

    /** Splits a group until the record the broker refuses for good is found. */
    async function isolate(topic: string, items: { event: Event; message: Message }[], rejected: Rejected): Promise<void> {
      try {
        await send([{ topic, messages: items.map((i) => i.message) }]);
      } catch (error) {
        if (!isPermanentRecordError(error)) throw transient(error);
        if (items.length === 1) {
          rejected.push({ event: items[0]!.event, reason: 'rejected-by-broker', detail: (error as Error).message });
          return;
        }
        const mid = items.length >> 1;
        await isolate(topic, items.slice(0, mid), rejected);
        await isolate(topic, items.slice(mid), rejected);
      }
    }

    return {
      async start() {
        producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: config.idempotent, maxInFlightRequests: config.idempotent ? 1 : 5, allowAutoTopicCreation: false, ...config.producer });
        await producer.connect();
        if (config.createTopics && topicOf.constant) {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const existing = await admin.listTopics();
            if (!existing.includes(topicOf.constant)) {
              await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topicOf.constant, numPartitions: config.createTopics.partitions, replicationFactor: config.createTopics.replicationFactor }] });
              ctx.log.info({ topic: topicOf.constant, partitions: config.createTopics.partitions }, 'Created topic.');
            }
          } finally {
            await admin.disconnect();
          }
        }
      },
      async write(events) {
        const rejected: Rejected = [];
        const groups = new Map<string, { event: Event; message: Message }[]>();
        for (const event of events) {
          const topic = topicOf(event);
          if (topic === undefined || !TOPIC_NAME.test(topic)) {
            rejected.push({ event, reason: 'invalid-topic', detail: `topic "${config.topic}" resolved to ${topic === undefined ? 'nothing (a header or field is missing)' : `"${topic}"`}` });
            continue;
          }
          const value = config.format === 'raw' ? Buffer.from(event.bytes) : event.text;
          const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
          if (size > config.maxMessageBytes) {
            rejected.push({ event, reason: 'too-large', detail: `${size} bytes > maxMessageBytes ${config.maxMessageBytes}` });
            continue;
          }
          const message: Message = { value };
          if (config.key) {
            const k = event.field(config.key);
            if (k !== undefined && k !== null) message.key = String(k);
          }
          if (config.headers.length) {
            const h: Record<string, string> = {};
            for (const name of config.headers) if (event.headers[name] !== undefined) h[name] = event.headers[name]!;
            message.headers = h;
          }
          const g = groups.get(topic);
          if (g) g.push({ event, message });
          else groups.set(topic, [{ event, message }]);
        }
        if (groups.size === 0) return { rejected };
        try {
          await send([...groups].map(([topic, items]) => ({ topic, messages: items.map((i) => i.message) })));
        } catch (error) {
          if (!isPermanentRecordError(error)) throw transient(error);
          // Some record or topic is refused for good: find it, deliver the rest.
          for (const [topic, items] of groups) await isolate(topic, items, rejected);
        }
        return { rejected };
      },
      async stop() {
        await producer?.disconnect();
      },
    };
  },
});


/**
 * The `kafka` sink: one sendBatch per channel batch, acknowledged by the brokers (acks=all by default, idempotent
 * producer) before the channel commits. A failure rolls the batch back; a record the broker refuses for good
 * (too large, invalid topic) is isolated by splitting the batch and goes to dead letters instead of blocking.
 * With `exactlyOnce` each batch is a producer transaction that also commits the source's offsets
 * (./kafka/transactional.ts).
 */
import kafkajs, { type ICustomPartitioner, type Message, type Producer } from 'kafkajs';
import { definePlugin } from '../../agent/index.ts';
import { connectionSchema, createKafka, type ConnectionConfig } from '../shared/kafka-client.ts';
import { tlsProblems } from '../shared/tls.ts';
import { COMPRESSION } from '../shared/kafka-codecs.ts';
import { compileTemplate } from '../shared/template.ts';
import { isPermanentRecordError, type Item, type Rejected, TOPIC_NAME, toRecord, topicMessages, transient } from './kafka/records.ts';
import { transactionalWriter } from './kafka/transactional.ts';

export { isPermanentRecordError } from './kafka/records.ts';

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
  /** Optional for callers that build the config by hand; validation fills in the defaults. */
  exactlyOnce?: boolean;
  transactionalId?: string;
  eventsWithoutOffsets?: 'reject' | 'send';
}

const { Partitioners } = kafkajs;
/**
 * The default partitioner, which also writes its choice into the message, so that a record sent again (see
 * isolate) goes to the same partition, and the sink knows which records went together.
 */
const pinnedPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  return (args) => (args.message.partition = choose(args));
};
/** Producer options exactlyOnce sets itself. */
const TRANSACTIONAL_KEYS = ['transactionalId', 'idempotent', 'maxInFlightRequests'];

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
      exactlyOnce: {
        type: 'boolean',
        default: false,
        description:
          'Kafka to Kafka exactly once: each batch is one producer transaction holding its records and the consumed offsets of the ' +
          'kafka source (offsetCommit: sink) that read them, so read_committed consumers see every record once across crashes. ' +
          'Only this sink may drain its channel, and only one exactlyOnce sink may get a given consumer group; the source and this ' +
          'sink must use the same cluster.',
      },
      transactionalId: {
        type: 'string',
        minLength: 1,
        description:
          'Transactional id of the exactlyOnce producer; default fintrans.<agent>.<sink>. Keep it stable across restarts (the new ' +
          'producer fences the killed one and ends its open transaction) and distinct per running instance: give each instance of a ' +
          'scaled-out agent its own, e.g. "orders-${HOSTNAME}".',
      },
      eventsWithoutOffsets: {
        enum: ['reject', 'send'],
        default: 'reject',
        description:
          'exactlyOnce only: events that did not come from a kafka source with offsetCommit: sink (no kafka.groupId header). reject: ' +
          'dead letters, reason no-source-offset. send: written in the same transaction but with no offsets to commit, so at-least-once.',
      },
    },
  },
  lint(config) {
    const problems: { key: string; message: string }[] = [];
    if (typeof config.ssl === 'object') for (const message of tlsProblems(config.ssl)) problems.push({ key: 'ssl', message });
    if (config.idempotent && config.acks !== 'all') problems.push({ key: 'acks', message: `acks ${config.acks} needs idempotent: false (the idempotent producer requires acks: all).` });
    if (config.exactlyOnce) {
      if (!config.idempotent) problems.push({ key: 'idempotent', message: 'exactlyOnce needs the idempotent producer: remove idempotent: false.' });
      if (config.acks !== 'all') problems.push({ key: 'acks', message: `exactlyOnce needs acks: all (a transaction commits only records every replica holds): remove acks: ${config.acks}.` });
      for (const k of TRANSACTIONAL_KEYS) if (k in config.producer) problems.push({ key: 'producer', message: `exactlyOnce sets producer.${k} itself${k === 'transactionalId' ? ' (use the transactionalId key)' : ''}: remove it.` });
    } else {
      if (config.transactionalId !== undefined) problems.push({ key: 'transactionalId', message: 'transactionalId is used only with exactlyOnce: true: set exactlyOnce or remove it.' });
      if (config.eventsWithoutOffsets === 'send') problems.push({ key: 'eventsWithoutOffsets', message: 'eventsWithoutOffsets applies only with exactlyOnce: true: set exactlyOnce or remove it.' });
    }
    return problems;
  },
  create(config, ctx) {
    const kafka = createKafka(config, ctx);
    const topicOf = compileTemplate(config.topic);
    if (topicOf.constant !== undefined && !TOPIC_NAME.test(topicOf.constant)) throw new Error(`"${config.topic}" is not a valid Kafka topic name (letters, digits, . _ - up to 249, not "." or "..").`);
    const records = { topic: config.topic, topicOf, format: config.format, maxMessageBytes: config.maxMessageBytes, key: config.key, headers: config.headers };
    const acks = config.acks === 'all' ? -1 : config.acks;
    const compression = COMPRESSION[config.compression];

    async function createTopic(): Promise<void> {
      if (!config.createTopics || !topicOf.constant) return;
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

    if (config.exactlyOnce) {
      const writer = transactionalWriter({
        kafka,
        ctx,
        transactionalId: config.transactionalId ?? `fintrans.${ctx.agent}.${ctx.name}`,
        producerOptions: config.producer,
        compression,
        withoutOffsets: config.eventsWithoutOffsets ?? 'reject',
        toRecord: (event) => toRecord(records, event),
      });
      return {
        async start() {
          await createTopic();
          await writer.start();
        },
        write: (events) => writer.write(events),
        stop: () => writer.stop(),
      };
    }

    let producer: Producer | undefined;
    const send = (topicMessages: { topic: string; messages: Message[] }[]) => producer!.sendBatch({ topicMessages, acks, compression });

    /** Splits a group until the record the broker refuses for good is found. */
    async function split(topic: string, items: Item[], rejected: Rejected): Promise<void> {
      try {
        await send([{ topic, messages: items.map((i) => i.message) }]);
      } catch (error) {
        if (!isPermanentRecordError(error)) throw transient(error);
        if (items.length === 1) {
          rejected.push({ event: items[0]!.event, reason: 'rejected-by-broker', detail: (error as Error).message });
          return;
        }
        const mid = items.length >> 1;
        await split(topic, items.slice(0, mid), rejected);
        await split(topic, items.slice(mid), rejected);
      }
    }

    /**
     * The refused request may have written its other partitions, yet kafkajs rewinds the sequence numbers of them
     * all. Each partition's records are first sent again exactly as they were, alone: the broker recognises a batch
     * it already holds (same producer, sequence and count) and drops it, where a regrouped one would be refused as
     * out of order for good. Only a partition refused again is split. (With idempotent: false, or a partition whose
     * leader is another broker that did accept its part, the records already written are written again.)
     */
    async function isolate(topic: string, items: Item[], rejected: Rejected): Promise<void> {
      const byPartition = new Map<number | undefined, Item[]>();
      for (const i of items) {
        const group = byPartition.get(i.message.partition);
        if (group) group.push(i);
        else byPartition.set(i.message.partition, [i]);
      }
      for (const group of byPartition.values()) await split(topic, group, rejected);
    }

    return {
      async start() {
        producer = kafka.producer({ createPartitioner: pinnedPartitioner, idempotent: config.idempotent, maxInFlightRequests: config.idempotent ? 1 : 5, allowAutoTopicCreation: false, ...config.producer });
        await producer.connect();
        await createTopic();
      },
      async write(events) {
        const rejected: Rejected = [];
        const items: Item[] = [];
        for (const event of events) {
          const r = toRecord(records, event);
          if ('reason' in r) rejected.push({ event, reason: r.reason, detail: r.detail });
          else items.push(r);
        }
        if (items.length === 0) return { rejected };
        const batches = topicMessages(items);
        try {
          await send(batches);
        } catch (error) {
          if (!isPermanentRecordError(error)) throw transient(error);
          // Some record or topic is refused for good: find it, deliver the rest.
          for (const { topic } of batches) await isolate(topic, items.filter((i) => i.topic === topic), rejected);
        }
        return { rejected };
      },
      async stop() {
        await producer?.disconnect();
      },
    };
  },
});

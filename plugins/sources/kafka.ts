/**
 * The `kafka` source: a consumer-group member. Offsets are committed only after the events' channel commit
 * (at-least-once: a crash redelivers, never loses). A full channel makes `emit` wait, which holds the partition's
 * batch (heartbeats continue), so nothing piles up in memory. Records that cannot be decoded go to dead letters
 * with their topic, partition and offset, and never stall the partition.
 *
 * With `offsetCommit: sink` the source commits nothing: it stamps each event for an `exactlyOnce` Kafka sink of the
 * same agent, which commits the offsets inside its producer transaction (see ./kafka/handoff.ts).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { AgentError, definePlugin, ErrorCodes, errorMessage, Event, type Headers } from '../../agent/index.ts';
import { connectionSchema, createKafka, type ConnectionConfig } from '../shared/kafka-client.ts';
import { tlsProblems } from '../shared/tls.ts';
import { beginEpoch, endEpoch, EPOCH_HEADER, formatPosition, GROUP_HEADER, POSITION_HEADER, sinksReady } from './kafka/handoff.ts';

interface KafkaSourceConfig extends ConnectionConfig {
  topics?: string[];
  topicsRegex?: string;
  groupId: string;
  batchSize: number;
  batchDurationMillis: number;
  startFrom: 'earliest' | 'latest';
  format: 'json' | 'text' | 'raw';
  setTopicHeader: boolean;
  topicHeader: string;
  partitionHeader: string;
  offsetHeader: string;
  keyHeader: string;
  timestampHeader: string;
  consumer: Record<string, unknown>;
  /** Optional for callers that build the config by hand; validation fills in 'source'. */
  offsetCommit?: 'source' | 'sink';
}

const header = (description: string, def: string) => ({ type: 'string', default: def, description: `${description} Empty: not set.` });

export default definePlugin<'source', KafkaSourceConfig>({
  kind: 'source',
  type: 'kafka',
  description: 'Consumes Kafka topics in a consumer group; offsets are committed only after the channel commit.',
  secrets: ['sasl.password'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['bootstrapServers'],
    oneOf: [{ required: ['topics'] }, { required: ['topicsRegex'] }],
    properties: {
      ...connectionSchema,
      topics: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'Topics to consume (or topicsRegex).' },
      topicsRegex: { type: 'string', format: 'regex', description: 'Regular expression of topics to consume, instead of topics.' },
      groupId: { type: 'string', default: 'fintrans', description: 'Consumer group; agents with the same groupId share the partitions.' },
      batchSize: { type: 'integer', minimum: 1, default: 1000, description: 'Maximum events per channel batch.' },
      batchDurationMillis: { type: 'integer', minimum: 1, default: 1000, description: 'Longest a fetch waits for data, in milliseconds.' },
      startFrom: { enum: ['earliest', 'latest'], default: 'latest', description: 'Where a new group starts; a group with committed offsets resumes from them.' },
      format: { enum: ['json', 'text', 'raw'], default: 'json', description: 'json: records must be JSON (others go to dead letters); text: UTF-8 text; raw: bytes.' },
      setTopicHeader: { type: 'boolean', default: true, description: 'Put the source topic in header topicHeader.' },
      topicHeader: { type: 'string', default: 'topic', description: 'Header for the topic.' },
      partitionHeader: header('Header for the partition number.', 'partition'),
      offsetHeader: header('Header for the record offset.', 'offset'),
      keyHeader: header('Header for the record key (when the record has one).', 'key'),
      timestampHeader: header('Header for the record timestamp (epoch milliseconds).', 'timestamp'),
      consumer: { type: 'object', default: {}, description: 'Extra kafkajs consumer options, e.g. { "sessionTimeout": 30000, "maxBytesPerPartition": 1048576 }.' },
      offsetCommit: {
        enum: ['source', 'sink'],
        default: 'source',
        description:
          'Who commits the consumed offsets. source: this source, after the channel commit (at-least-once). sink: a kafka sink with ' +
          'exactlyOnce: true in the same agent commits them inside its producer transaction (exactly once, Kafka to Kafka); the source ' +
          'then waits for that sink at start and stamps each event with the headers kafka.groupId, kafka.position (topic/partition/offset) ' +
          'and kafka.epoch, which processors must leave alone.',
      },
    },
  },
  lint(config) {
    const problems = typeof config.ssl === 'object' ? tlsProblems(config.ssl).map((message) => ({ key: 'ssl', message })) : [];
    if (config.offsetCommit === 'sink' && config.consumer.readUncommitted) {
      problems.push({ key: 'consumer', message: 'offsetCommit: sink reads only committed records (records of aborted transactions must not pass): remove consumer.readUncommitted.' });
    }
    return problems;
  },
  create(config, ctx) {
    const kafka = createKafka(config, ctx);
    const subscription = config.topicsRegex ? [new RegExp(config.topicsRegex)] : config.topics!;
    const sinkCommits = config.offsetCommit === 'sink';
    let consumer: Consumer | undefined;
    let epoch: string | undefined;

    const toEvent = (topic: string, partition: number, m: KafkaMessage): Event | { bad: Event; reason: string; detail: string } => {
      const h: Headers = {};
      if (config.setTopicHeader) h[config.topicHeader] = topic;
      if (config.partitionHeader) h[config.partitionHeader] = String(partition);
      if (config.offsetHeader) h[config.offsetHeader] = m.offset;
      if (config.keyHeader && m.key) h[config.keyHeader] = m.key.toString();
      if (config.timestampHeader) h[config.timestampHeader] = m.timestamp;
      if (sinkCommits) {
        h[GROUP_HEADER] = config.groupId;
        h[POSITION_HEADER] = formatPosition(topic, partition, m.offset);
        h[EPOCH_HEADER] = epoch ?? '';
      }
      const value = m.value ?? Buffer.alloc(0);
      if (config.format === 'raw') return Event.fromBytes(value, h);
      const text = value.toString('utf8');
      if (config.format === 'text') return Event.fromText(text, h);
      try {
        return new Event(h, text, JSON.parse(text));
      } catch (error) {
        return { bad: Event.fromBytes(value, h), reason: 'malformed-json', detail: `${topic}/${partition}@${m.offset}: ${errorMessage(error)}` };
      }
    };

    return {
      async run(run) {
        if (sinkCommits) {
          const sinks = await sinksReady(ctx.agent, run.signal);
          if (run.signal.aborted) return;
          if (sinks === 0) throw new AgentError(ErrorCodes.CONFIG_INVALID, `offsetCommit: sink leaves the offsets of group "${config.groupId}" to a kafka sink with exactlyOnce: true, and agent "${ctx.agent}" has none: add one, or set offsetCommit: source.`);
        }
        consumer = kafka.consumer({ groupId: config.groupId, maxWaitTimeInMs: config.batchDurationMillis, ...config.consumer });
        const crashed = new Promise<never>((_, reject) => {
          consumer!.on(consumer!.events.CRASH, (e) => {
            if (sinkCommits) endEpoch(epoch); // kafkajs restarts the consumer, which re-reads from the committed offsets
            if (!(e.payload as { restart?: boolean }).restart) reject(e.payload.error);
          });
        });
        if (sinkCommits) {
          // Every join re-reads from the committed offsets, so what the previous epoch put in the channel is stale.
          consumer.on(consumer.events.REBALANCING, () => endEpoch(epoch));
          consumer.on(consumer.events.GROUP_JOIN, () => {
            endEpoch(epoch);
            epoch = beginEpoch();
          });
        }
        await consumer.connect();
        await consumer.subscribe({ topics: subscription, fromBeginning: config.startFrom === 'earliest' });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
            const { topic, partition, messages } = batch;
            for (let i = 0; i < messages.length && isRunning() && !isStale() && !run.signal.aborted; i += config.batchSize) {
              const slice = messages.slice(i, i + config.batchSize);
              const events: Event[] = [];
              for (const m of slice) {
                const e = toEvent(topic, partition, m);
                if (e instanceof Event) events.push(e);
                else run.deadLetter([e.bad], e.reason, e.detail);
              }
              // A full channel can hold this emit for long: keep the group membership alive meanwhile.
              const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
              try {
                if (events.length) await run.emit(events);
              } catch {
                return; // stopping: the offsets stay uncommitted, the records are redelivered
              } finally {
                clearInterval(beat);
              }
              const last = slice[slice.length - 1]!.offset;
              resolveOffset(last);
              if (!sinkCommits) await consumer!.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
              await heartbeat();
            }
          },
        });
        const aborted = new Promise<void>((resolve) => (run.signal.aborted ? resolve() : run.signal.addEventListener('abort', () => resolve(), { once: true })));
        try {
          await Promise.race([aborted, crashed]);
        } finally {
          // Once this member leaves, others may own its partitions: what it put in the channel must not be written.
          endEpoch(epoch);
          await consumer.disconnect().catch(() => undefined);
        }
      },
      async close() {
        endEpoch(epoch);
        await consumer?.disconnect().catch(() => undefined);
      },
    };
  },
});

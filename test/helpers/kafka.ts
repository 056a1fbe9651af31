/**
 * Kafka helpers for integration tests: topics, a producer of test records, and an independent consumer that
 * counts what really reached a topic.
 */
import kafkajs from 'kafkajs';
import { endpoints } from '../servers.ts';

export const kafka = new kafkajs.Kafka({ clientId: 'fta-tests', brokers: [...endpoints.kafka.brokers], logLevel: kafkajs.logLevel.NOTHING });

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

/** Produces `values` (strings) keyed by `key(i)` in batches. */
export async function produce(topic: string, values: string[], key?: (i: number) => string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 2000) {
      await producer.send({ topic, acks: -1, messages: values.slice(i, i + 2000).map((value, j) => ({ value, key: key?.(i + j) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads a topic from the beginning with a fresh group until `expected` distinct ids are seen (plus a short settle). */
export async function countIds(topic: string, expected: number, idOf: (value: string) => string, timeoutMs = 90_000): Promise<Map<string, number>> {
  const consumer = kafka.consumer({ groupId: unique('verify'), maxWaitTimeInMs: 200 });
  const counts = new Map<string, number>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let settledAt = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      const id = idOf(message.value!.toString());
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (counts.size >= expected) {
      settledAt ||= Date.now();
      if (Date.now() - settledAt > 1500) break; // late duplicates would show up here
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return counts;
}

/**
 * Turning events into Kafka records, and telling a record the broker refuses for good from a passing failure:
 * shared by the plain and the transactional write paths of the `kafka` sink.
 */
import type { Message } from 'kafkajs';
import { AgentError, type Event, type WriteResult } from '../../../agent/index.ts';
import type { Template } from '../../shared/template.ts';

/** Kafka's rule for topic names; the broker also refuses "." and "..". */
export const TOPIC_NAME = /^(?!\.\.?$)[a-zA-Z0-9._-]{1,249}$/;

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

export function transient(error: unknown, what = 'Kafka send failed'): AgentError {
  return new AgentError('FTA_KAFKA_SEND', `${what}: ${(error as Error).message}`, { retriable: true, cause: error });
}

export type Rejected = NonNullable<WriteResult['rejected']>;

/** One event with the record it becomes. */
export interface Item {
  event: Event;
  topic: string;
  message: Message;
}

export interface RecordOptions {
  topic: string;
  topicOf: Template;
  format: 'json' | 'raw';
  maxMessageBytes: number;
  key?: string;
  headers: readonly string[];
}

/** The record for one event, or why it cannot have one (it then goes to dead letters). */
export function toRecord(o: RecordOptions, event: Event): Item | { reason: string; detail: string } {
  const topic = o.topicOf(event);
  if (topic === undefined || !TOPIC_NAME.test(topic)) {
    return { reason: 'invalid-topic', detail: `topic "${o.topic}" resolved to ${topic === undefined ? 'nothing (a header or field is missing)' : `"${topic}"`}` };
  }
  // Raw bytes are wrapped, not copied: the record batch copies them anyway. Text stays a string, which kafkajs
  // encodes straight into the record (a Buffer per record measured slower: one more pool allocation and copy).
  const value = o.format === 'raw' ? asBuffer(event.bytes) : event.text;
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (size > o.maxMessageBytes) return { reason: 'too-large', detail: `${size} bytes > maxMessageBytes ${o.maxMessageBytes}` };
  const message: Message = { value };
  if (o.key) {
    const k = event.field(o.key);
    if (k !== undefined && k !== null) message.key = String(k);
  }
  if (o.headers.length) {
    const h: Record<string, string> = {};
    for (const name of o.headers) if (event.headers[name] !== undefined) h[name] = event.headers[name]!;
    message.headers = h;
  }
  return { event, topic, message };
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Items grouped per topic, in order, as sendBatch takes them. */
export function topicMessages(items: readonly Item[]): { topic: string; messages: Message[] }[] {
  const groups = new Map<string, Message[]>();
  for (const i of items) {
    const g = groups.get(i.topic);
    if (g) g.push(i.message);
    else groups.set(i.topic, [i.message]);
  }
  return [...groups].map(([topic, messages]) => ({ topic, messages }));
}

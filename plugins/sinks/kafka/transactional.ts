/**
 * The `exactlyOnce` write path of the `kafka` sink: each channel batch is one producer transaction holding its
 * records and the consumed offsets of the `kafka` source (offsetCommit: sink) that read them, so a read_committed
 * consumer downstream sees a record exactly when its offset is committed, across crashes.
 *
 * The transactional id is stable per agent and sink: a restarted agent's producer init fences the killed one and
 * completes or aborts the transaction it left open, and the source waits for that init before it joins its group.
 * A failed transaction is aborted and the batch rolled back (the runner retries it). A commit whose outcome is
 * unknown is settled the same way, by re-initializing the producer, after which the group's committed offsets say
 * whether it went through; events a committed transaction already covers are then dropped, not written again.
 */
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { AgentError, type ComponentContext, type Event, ErrorCodes, type WriteResult } from '../../../agent/index.ts';
import { claimGroup, isLive, registerSink } from '../../sources/kafka/handoff.ts';
import { kafkaOffsets, type Offsets, offsetsOf, positionKey, sortBatch, type Unit } from './batch.ts';
import { isPermanentRecordError, type Item, type Rejected, topicMessages, transient } from './records.ts';

type Kafka = InstanceType<typeof kafkajs.Kafka>;

export interface TransactionalOptions {
  kafka: Kafka;
  ctx: ComponentContext;
  transactionalId: string;
  producerOptions: Record<string, unknown>;
  compression: kafkajs.CompressionTypes;
  withoutOffsets: 'reject' | 'send';
  toRecord(event: Event): Item | { reason: string; detail: string };
}

export function transactionalWriter(o: TransactionalOptions) {
  const { ctx } = o;
  const registration = registerSink(ctx.agent, ctx.name);
  const m = {
    committed: ctx.metrics.counter('eos_transactions_total', 'Producer transactions committed (records and consumed offsets together).'),
    aborted: ctx.metrics.counter('eos_aborts_total', 'Producer transactions aborted or of unknown outcome; their batch was rolled back and retried.'),
    stale: ctx.metrics.counter('eos_stale_dropped_total', 'Events dropped because their consumer epoch ended (rebalance, source or agent restart): the consumer reads them again.'),
    replayed: ctx.metrics.counter('eos_replayed_dropped_total', 'Events dropped because a committed transaction already holds them.'),
  };
  /** Per group/topic/partition: the next offset our committed transactions cover (bounded by the partitions). */
  const marks = new Map<string, bigint>();
  const markKey = (group: string, topic: string, partition: number) => `${group}\u0000${topic}\u0000${partition}`;
  /** Records refused for good in a batch that then failed: on the retry they are covered but still owe a dead letter. */
  const owed = new Map<string, { reason: string; detail?: string }>();
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let unsettled: Offsets | undefined;
  let loggedAt = 0;

  function raise(group: string, topic: string, partition: number, next: bigint): void {
    const k = markKey(group, topic, partition);
    if ((marks.get(k) ?? -1n) < next) marks.set(k, next);
  }

  function advance(offsets: Offsets): void {
    for (const [group, topics] of offsets) for (const [topic, parts] of topics) for (const [partition, next] of parts) raise(group, topic, partition, next);
  }

  /** A fresh producer: its init fences any older one with our id and settles the transaction that one left open. */
  async function ready(): Promise<Producer> {
    if (!producer) {
      const p = o.kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...o.producerOptions, transactionalId: o.transactionalId, idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      try {
        await (await p.transaction()).abort(); // InitProducerId; nothing is open, so no EndTxn is sent
      } catch (error) {
        await p.disconnect().catch(() => undefined);
        throw error;
      }
      producer = p;
    }
    if (unsettled) {
      // The settled transaction either committed these offsets or not: the group's committed offsets say which.
      admin ??= o.kafka.admin();
      await admin.connect();
      for (const [group, topics] of unsettled) {
        for (const t of await admin.fetchOffsets({ groupId: group, topics: [...topics.keys()] })) {
          for (const p of t.partitions) if (/^\d+$/.test(p.offset)) raise(group, t.topic, p.partition, BigInt(p.offset));
        }
      }
      unsettled = undefined;
    }
    return producer;
  }

  async function drop(): Promise<void> {
    const p = producer;
    producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  async function transaction(units: readonly Unit[]): Promise<void> {
    const items = units.flatMap((u) => (u.item ? [u.item] : []));
    const offsets = offsetsOf(units);
    if (items.length === 0 && offsets.size === 0) return;
    const tx = await (await ready()).transaction();
    try {
      if (items.length) await tx.sendBatch({ topicMessages: topicMessages(items), acks: -1, compression: o.compression });
      for (const [group, topics] of offsets) await tx.sendOffsets({ consumerGroupId: group, topics: kafkaOffsets(topics) });
    } catch (error) {
      m.aborted.inc();
      await tx.abort().catch(() => undefined);
      // kafkajs rewinds the sequence numbers of every partition of a failed produce request, even those the broker
      // appended, so this producer's next sends would be out of order: a new one starts from fresh sequences (and
      // its init aborts the transaction, should the abort above have failed).
      await drop();
      throw error;
    }
    if (units.some((u) => u.epoch !== undefined && !isLive(u.epoch))) {
      // The consumer started rebalancing meanwhile: the partitions' next owner will read these records again from
      // the committed offsets, which must therefore stay where they are.
      m.aborted.inc();
      await tx.abort().catch(drop);
      throw new AgentError('FTA_KAFKA_REBALANCED', 'The consumer group rebalanced during the transaction: aborted; the records are read again.', { retriable: true });
    }
    try {
      await tx.commit();
    } catch (error) {
      m.aborted.inc();
      unsettled = offsets;
      await drop();
      throw transient(error, 'Kafka transaction commit failed (outcome settled before the retry)');
    }
    m.committed.inc();
    advance(offsets);
  }

  /** Writes units in order; a record the broker refuses for good is isolated by halving, then dead-lettered. */
  async function deliver(units: Unit[], rejected: Rejected): Promise<void> {
    try {
      await transaction(units);
    } catch (error) {
      if (!isPermanentRecordError(error)) throw error instanceof AgentError ? error : transient(error);
      if (units.length === 1) {
        const u = units[0]!;
        const entry = { reason: 'rejected-by-broker', detail: (error as Error).message };
        rejected.push({ event: u.event, ...entry });
        if (u.group && u.position) owed.set(positionKey(u.group, u.position), entry);
        await transaction([{ ...u, item: undefined }]); // commits its offset alone
        return;
      }
      const mid = units.length >> 1;
      await deliver(units.slice(0, mid), rejected);
      await deliver(units.slice(mid), rejected);
    }
  }

  return {
    async start(): Promise<void> {
      await ready();
      registration.ready();
    },

    async write(events: readonly Event[]): Promise<WriteResult> {
      // kafkajs calls exhausted retries non-retriable even for a lost connection; the runner must retry, not dead-letter.
      await ready().catch((error: unknown) => Promise.reject(transient(error, 'Kafka producer init failed')));
      const sorted = sortBatch(events, {
        isLive,
        committed: (group, topic, partition) => marks.get(markKey(group, topic, partition)),
        withoutOffsets: o.withoutOffsets,
      });
      const { units, rejected } = sorted;
      for (const u of sorted.replayed) {
        const entry = owed.get(positionKey(u.group!, u.position!));
        if (entry) rejected.push({ event: u.event, ...entry });
      }
      m.stale.inc(sorted.stale);
      m.replayed.inc(sorted.replayed.length);
      if ((sorted.stale || sorted.replayed.length) && Date.now() - loggedAt > 10_000) {
        loggedAt = Date.now();
        ctx.log.info({ stale: sorted.stale, replayed: sorted.replayed.length }, 'Dropped events the consumer reads again (stale epoch) or a committed transaction already holds.');
      }
      for (const group of new Set(units.flatMap((u) => (u.group ? [u.group] : [])))) {
        const owner = claimGroup(ctx.agent, group, ctx.name);
        if (owner) {
          throw new AgentError(ErrorCodes.CONFIG_INVALID, `Sinks "${owner}" and "${ctx.name}" both get events of consumer group "${group}" with exactlyOnce: only one sink may commit a group's offsets. Route the source to one exactlyOnce sink.`, { retriable: true });
        }
      }
      const live: Unit[] = [];
      for (const u of units) {
        const r = o.toRecord(u.event);
        if ('reason' in r) {
          rejected.push({ event: u.event, reason: r.reason, detail: r.detail });
          if (u.group && u.position) owed.set(positionKey(u.group, u.position), { reason: r.reason, detail: r.detail });
          live.push(u); // no record, but its offset still counts
        } else live.push({ ...u, item: r });
      }
      await deliver(live, rejected);
      owed.clear();
      return { rejected };
    },

    async stop(): Promise<void> {
      registration.close();
      await drop();
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

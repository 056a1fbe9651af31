/**
 * Sorting an exactlyOnce batch before its transaction: which events to write, which are stale (their consumer
 * epoch ended, so the consumer reads them again), which a committed transaction already covers, and the offsets
 * the transaction commits. Pure, so the rules are tested without a broker.
 */
import type { Event } from '../../../agent/index.ts';
import { EPOCH_HEADER, GROUP_HEADER, parsePosition, POSITION_HEADER, type Position } from '../../sources/kafka/handoff.ts';
import type { Item, Rejected } from './records.ts';

/** One event of the batch in order; `item` is its record (absent when it cannot have one). */
export interface Unit {
  event: Event;
  group?: string;
  position?: Position;
  epoch?: string;
  item?: Item;
}

/** group → topic → partition → the next offset to consume (last written + 1). */
export type Offsets = Map<string, Map<string, Map<number, bigint>>>;

export interface SortOptions {
  isLive(epoch: string | undefined): boolean;
  /** The next offset a committed transaction of this sink already covers, if known. */
  committed(group: string, topic: string, partition: number): bigint | undefined;
  withoutOffsets: 'reject' | 'send';
}

export interface Sorted {
  units: Unit[];
  stale: number;
  replayed: Unit[];
  rejected: Rejected;
}

export function sortBatch(events: readonly Event[], o: SortOptions): Sorted {
  const out: Sorted = { units: [], stale: 0, replayed: [], rejected: [] };
  for (const event of events) {
    const group = event.headers[GROUP_HEADER];
    if (group === undefined) {
      if (o.withoutOffsets === 'send') out.units.push({ event });
      else out.rejected.push({ event, reason: 'no-source-offset', detail: `exactlyOnce writes only events of a kafka source with offsetCommit: sink (header ${GROUP_HEADER} is missing); set eventsWithoutOffsets: send to write such events at-least-once` });
      continue;
    }
    const position = parsePosition(event.headers[POSITION_HEADER]);
    if (!position) {
      out.rejected.push({ event, reason: 'no-source-offset', detail: `header ${POSITION_HEADER} is "${event.headers[POSITION_HEADER] ?? ''}", not topic/partition/offset (a processor changed it?)` });
      continue;
    }
    const epoch = event.headers[EPOCH_HEADER];
    if (!o.isLive(epoch)) {
      out.stale++;
      continue;
    }
    const done = o.committed(group, position.topic, position.partition);
    if (done !== undefined && position.offset < done) out.replayed.push({ event, group, position, epoch });
    else out.units.push({ event, group, position, epoch });
  }
  return out;
}

/** The offsets a transaction of these units commits: per partition, the highest offset + 1. */
export function offsetsOf(units: readonly Unit[]): Offsets {
  const out: Offsets = new Map();
  for (const { group, position: p } of units) {
    if (group === undefined || !p) continue;
    let topics = out.get(group);
    if (!topics) out.set(group, (topics = new Map()));
    let parts = topics.get(p.topic);
    if (!parts) topics.set(p.topic, (parts = new Map()));
    const next = p.offset + 1n;
    if ((parts.get(p.partition) ?? -1n) < next) parts.set(p.partition, next);
  }
  return out;
}

/** The `topics` argument of kafkajs's sendOffsets and fetchOffsets results, for one group. */
export function kafkaOffsets(topics: Map<string, Map<number, bigint>>): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  return [...topics].map(([topic, parts]) => ({ topic, partitions: [...parts].map(([partition, offset]) => ({ partition, offset: offset.toString() })) }));
}

export const positionKey = (group: string, p: Position) => `${group}\u0000${p.topic}\u0000${p.partition}\u0000${p.offset}`;

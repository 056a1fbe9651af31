import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { EPOCH_HEADER, GROUP_HEADER, POSITION_HEADER } from '../../sources/kafka/handoff.ts';
import { kafkaOffsets, offsetsOf, sortBatch, type SortOptions } from './batch.ts';

const fromKafka = (id: string, position: string, epoch = 'live', group = 'g') =>
  Event.fromData({ id }, { [GROUP_HEADER]: group, [POSITION_HEADER]: position, [EPOCH_HEADER]: epoch });
const ids = (events: { event: Event }[]) => events.map((u) => (u.event.data as { id: string }).id);
const options = (over: Partial<SortOptions> = {}): SortOptions => ({ isLive: (e) => e === 'live', committed: () => undefined, withoutOffsets: 'reject', ...over });

describe('sorting an exactlyOnce batch', () => {
  it('writes live events in order, drops stale ones, and holds back those a committed transaction covers', () => {
    const batch = [fromKafka('a', 'in/0/10'), fromKafka('b', 'in/0/11', 'dead'), fromKafka('c', 'in/1/5'), fromKafka('d', 'in/1/6'), fromKafka('e', 'in.x-y/2/7')];
    const sorted = sortBatch(batch, options({ committed: (g, t, p) => (g === 'g' && t === 'in' && p === 1 ? 6n : undefined) }));
    expect(ids(sorted.units)).toEqual(['a', 'd', 'e']);
    expect(sorted.stale).toBe(1);
    expect(ids(sorted.replayed)).toEqual(['c']);
    expect(sorted.rejected).toEqual([]);
    expect(sorted.units[2]!.position).toEqual({ topic: 'in.x-y', partition: 2, offset: 7n });
  });

  it('rejects events without the source headers by default, or passes them on without offsets with withoutOffsets: send', () => {
    const plain = Event.fromData({ id: 'p' });
    const tampered = Event.fromData({ id: 't' }, { [GROUP_HEADER]: 'g', [POSITION_HEADER]: 'in/zero/1', [EPOCH_HEADER]: 'live' });
    const rejected = sortBatch([plain, tampered], options());
    expect(rejected.units).toEqual([]);
    expect(rejected.rejected.map((r) => r.reason)).toEqual(['no-source-offset', 'no-source-offset']);
    expect(rejected.rejected[0]!.detail).toMatch(/eventsWithoutOffsets: send/);
    expect(rejected.rejected[1]!.detail).toMatch(/not topic\/partition\/offset/);
    const sent = sortBatch([plain], options({ withoutOffsets: 'send' }));
    expect(ids(sent.units)).toEqual(['p']);
    expect(offsetsOf(sent.units).size).toBe(0);
  });
});

describe('offsets of a transaction', () => {
  it('commits, per group and partition, the highest offset + 1 (as strings for kafkajs)', () => {
    const units = sortBatch([fromKafka('a', 'in/0/10'), fromKafka('b', 'in/1/3'), fromKafka('c', 'in/0/12'), fromKafka('d', 'in/0/11'), fromKafka('e', 'other/0/99999999999999999', 'live', 'h')], options()).units;
    const offsets = offsetsOf(units);
    expect([...offsets.keys()]).toEqual(['g', 'h']);
    expect(kafkaOffsets(offsets.get('g')!)).toEqual([{ topic: 'in', partitions: [{ partition: 0, offset: '13' }, { partition: 1, offset: '4' }] }]);
    expect(kafkaOffsets(offsets.get('h')!)).toEqual([{ topic: 'other', partitions: [{ partition: 0, offset: '100000000000000000' }] }]);
  });
});

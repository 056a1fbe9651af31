import { describe, expect, it } from 'vitest';
import { Event } from '../../agent/event.ts';
import { channelCompliance } from '../../agent/testing/compliance.ts';
import { testContext } from '../../agent/testing/context.ts';
import type { Channel } from '../../agent/types.ts';
import memory from './memory.ts';

channelCompliance('memory', async (o) => memory.create({ ...o, byteCapacity: 0 }, testContext('channel', 'memory')) as never);

describe('memory channel byteCapacity', () => {
  // Bodies of exactly 10 bytes, so byte budgets below are whole numbers of events.
  const ev = (i: number) => Event.fromText(`body-${String(i).padStart(5, '0')}`);
  const build = (byteCapacity: number, keepAlive: number) =>
    memory.create({ capacity: 1000, transactionCapacity: 100, byteCapacity, keepAlive }, testContext('channel', 'memory')) as Channel;
  const put = async (ch: Channel, events: Event[]) => {
    const tx = ch.beginPut();
    tx.put(events);
    await tx.commit();
  };
  /** Lets every pending timer and promise run once: a put that could proceed would have settled by then. */
  const settle = () => new Promise((r) => setImmediate(r));

  it('fails a put that would exceed the bytes, though the event capacity has room, with a retriable channel-full error', async () => {
    const ch = build(100, 0.05);
    expect(ev(0).size).toBe(10);
    await put(ch, Array.from({ length: 8 }, (_, i) => ev(i)));
    expect(ch.status?.()).toMatchObject({ ByteSize: 80, ByteCapacity: 100 });
    await put(ch, [ev(8), ev(9)]); // exactly at the limit still fits
    await expect(put(ch, [ev(10)])).rejects.toMatchObject({ code: 'FTA_CHANNEL_FULL', retriable: true });
    expect(ch.size()).toBe(10);
  });

  it('holds a put that does not fit until a take commits, not when it rolls back, then accepts it', async () => {
    const ch = build(100, 30);
    await put(ch, Array.from({ length: 10 }, (_, i) => ev(i)));
    let done = false;
    const waiting = put(ch, [ev(10), ev(11)]).then(() => (done = true));
    await settle();
    expect(done).toBe(false);

    // A rolled-back take hands its events back: no bytes were freed, so the put keeps waiting.
    const first = await ch.take(5, 0);
    await first.rollback();
    await settle();
    expect(done).toBe(false);
    expect(ch.status?.()).toMatchObject({ ByteSize: 100 });

    const t = await ch.take(2, 0);
    await t.commit();
    await waiting;
    expect(done).toBe(true);
    expect(ch.status?.()).toMatchObject({ ByteSize: 100 });
    const rest = await ch.take(100, 0);
    expect(rest.events.map((e) => e.text)).toEqual(Array.from({ length: 10 }, (_, i) => ev(i + 2).text));
    await rest.commit();
    expect(ch.status?.()).toMatchObject({ ByteSize: 0 });
  });

  it('admits one batch larger than byteCapacity into an empty channel rather than blocking it forever', async () => {
    const ch = build(25, 0.05);
    await put(ch, [ev(0), ev(1), ev(2)]);
    expect(ch.size()).toBe(3);
    await expect(put(ch, [ev(3)])).rejects.toMatchObject({ code: 'FTA_CHANNEL_FULL' });
  });

  it('counts no bytes when byteCapacity is 0 (the event capacity alone bounds the channel)', async () => {
    const ch = build(0, 0.05);
    await put(ch, Array.from({ length: 100 }, (_, i) => ev(i)));
    expect(ch.status?.()).toMatchObject({ ByteSize: 0, ByteCapacity: 0 });
  });
});

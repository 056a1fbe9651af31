import { describe, expect, it } from 'vitest';
import memory from '../../plugins/channels/memory.ts';
import { Event } from '../event.ts';
import { testContext } from '../testing/context.ts';
import type { Channel } from '../types.ts';
import { moveEvents } from './reload-move.ts';

const channel = async (capacity: number, transactionCapacity: number): Promise<Channel> =>
  (await memory.create({ capacity, transactionCapacity, byteCapacity: 0, keepAlive: '20ms' }, testContext('channel', 'memory'))) as Channel;

async function fill(ch: Channel, n: number): Promise<void> {
  for (let i = 0; i < n; i += ch.transactionCapacity) {
    const tx = ch.beginPut();
    tx.put(Array.from({ length: Math.min(ch.transactionCapacity, n - i) }, (_, k) => Event.fromText(`e${i + k}`)));
    await tx.commit();
  }
}

async function drain(ch: Channel, into: string[], signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const tx = await ch.take(7, 5, signal);
    into.push(...tx.events.map((e) => e.text));
    if (tx.events.length) await tx.commit();
  }
}

describe('moving a replaced channel\'s events', () => {
  it('moves every event in order into a smaller channel while a sink drains it', async () => {
    const from = await channel(1000, 100);
    const to = await channel(50, 20);
    await fill(from, 600);
    const got: string[] = [];
    const stop = new AbortController();
    const sink = drain(to, got, stop.signal);
    const r = await moveEvents(from, to, new AbortController().signal);
    while (to.size() > 0) await new Promise((res) => setTimeout(res, 5));
    stop.abort();
    await sink;
    expect(r).toEqual({ moved: 600, left: 0 });
    expect(got).toEqual(Array.from({ length: 600 }, (_, i) => `e${i}`));
    expect(from.size()).toBe(0);
  });

  it('stops when aborted and leaves the rest in the old channel, none lost in between', async () => {
    const from = await channel(1000, 100);
    const to = await channel(100, 100);
    await fill(from, 300);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const r = await moveEvents(from, to, abort.signal);
    expect(r.moved).toBe(100);
    expect(r.left).toBe(200);
    expect(from.size() + to.size()).toBe(300);
  });
});

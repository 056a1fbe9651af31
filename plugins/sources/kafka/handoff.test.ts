import { describe, expect, it } from 'vitest';
import { beginEpoch, claimGroup, endEpoch, formatPosition, isLive, parsePosition, registerSink, sinksReady } from './handoff.ts';

describe('kafka exactly-once hand-off', () => {
  it('epochs are unique, live from begin to end, and never live when unknown', () => {
    const a = beginEpoch();
    const b = beginEpoch();
    expect(a).not.toBe(b);
    expect(isLive(a) && isLive(b)).toBe(true);
    endEpoch(a);
    expect(isLive(a)).toBe(false);
    expect(isLive(b)).toBe(true);
    endEpoch(b);
    endEpoch(undefined);
    expect(isLive(undefined)).toBe(false);
    expect(isLive('')).toBe(false);
    expect(isLive('another-process.1')).toBe(false);
  });

  it('round-trips positions and refuses malformed ones', () => {
    expect(parsePosition(formatPosition('fin.tx_1-a', 3, '12345678901234567890'))).toEqual({ topic: 'fin.tx_1-a', partition: 3, offset: 12345678901234567890n });
    for (const bad of [undefined, '', 'in/1', '/1/2', 'in/x/2', 'in/1/-2', 'in/1/2.5']) expect(parsePosition(bad), String(bad)).toBeUndefined();
  });

  it('a source waits until every exactlyOnce sink of its agent is ready, and learns when there is none', async () => {
    const never = new AbortController();
    expect(await sinksReady('agent-without-sinks', never.signal)).toBe(0);
    const one = registerSink('eos-agent', 'one');
    const two = registerSink('eos-agent', 'two');
    let resolved = 0;
    const waiting = sinksReady('eos-agent', never.signal).then((n) => (resolved = n));
    one.ready();
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(0);
    two.ready();
    await waiting;
    expect(resolved).toBe(2);
    // A stop while waiting ends the wait.
    const three = registerSink('eos-agent', 'three');
    const stop = new AbortController();
    const stopped = sinksReady('eos-agent', stop.signal);
    stop.abort();
    expect(await stopped).toBe(3);
    for (const s of [one, two, three]) s.close();
    expect(await sinksReady('eos-agent', never.signal)).toBe(0);
  });

  it('gives a group\'s offsets to one sink per agent, until that sink closes', () => {
    const first = registerSink('claims', 'first');
    const second = registerSink('claims', 'second');
    expect(claimGroup('claims', 'g', 'first')).toBeUndefined();
    expect(claimGroup('claims', 'g', 'first')).toBeUndefined();
    expect(claimGroup('claims', 'g', 'second')).toBe('first');
    expect(claimGroup('other-agent', 'g', 'second')).toBeUndefined();
    first.close();
    expect(claimGroup('claims', 'g', 'second')).toBeUndefined();
    second.close();
  });
});

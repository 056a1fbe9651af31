import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, sleep } from './backoff.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('Backoff', () => {
  it('doubles from the initial delay and caps at the maximum', () => {
    const b = new Backoff(100, 1000);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.consecutive).toBe(6);
  });

  it('stays at the cap after very many failures (no overflow to Infinity or NaN)', () => {
    const b = new Backoff(1, 5000);
    for (let i = 0; i < 2000; i++) b.next();
    expect(b.next()).toBe(5000);
  });

  it('starts again from the initial delay after reset', () => {
    const b = new Backoff(50, 10_000);
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.consecutive).toBe(0);
    expect(b.next()).toBe(50);
    expect(b.next()).toBe(100);
  });

  it('wait sleeps the next delay and resolves true when not aborted', async () => {
    vi.useFakeTimers();
    const b = new Backoff(100, 1000);
    let result: boolean | undefined;
    void b.wait().then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(99);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBe(true);
    expect(b.consecutive).toBe(1);
  });

  it('wait resolves false as soon as the signal aborts', async () => {
    vi.useFakeTimers();
    const b = new Backoff(10_000, 10_000);
    const controller = new AbortController();
    const p = b.wait(controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    expect(await p).toBe(false);
    expect(vi.getTimerCount()).toBe(0); // the sleep's timer was cleared
  });

  it('wait resolves false at once on an already aborted signal', async () => {
    const b = new Backoff(60_000, 60_000);
    expect(await b.wait(AbortSignal.abort())).toBe(false);
  });
});

describe('sleep', () => {
  it('removes its abort listener when the timer fires', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = sleep(5, controller.signal);
    await vi.advanceTimersByTimeAsync(5);
    expect(await p).toBe(true);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});

/**
 * Promise-based wake-ups for channel waiters: resolve true when woken, false on timeout or abort. Everyone is
 * woken at once and re-checks its own condition, which keeps the channels free of lost-wakeup bugs.
 */
export class Waiters {
  private waiting = new Set<(woken: boolean) => void>();

  wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(done);
        resolve(woken);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(done);
    });
  }

  wakeAll(): void {
    if (this.waiting.size === 0) return;
    const all = [...this.waiting];
    this.waiting.clear();
    for (const w of all) w(true);
  }
}

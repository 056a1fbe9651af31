/**
 * Exponential backoff owned by the runners, not the plugins: the delay doubles from `initialMs` to `maxMs` on
 * consecutive failures and resets on success. Sleeping is abortable so a stop never waits out a backoff.
 */
export class Backoff {
  private failures = 0;
  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 10_000,
  ) {}

  get consecutive(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }

  next(): number {
    const ms = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return ms;
  }

  /** Sleeps the next delay; resolves false when aborted first. */
  wait(signal?: AbortSignal): Promise<boolean> {
    return sleep(this.next(), signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

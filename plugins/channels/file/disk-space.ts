/**
 * Free-space guard: below `minimumRequiredSpace` puts wait (with a clear error and a gauge) instead of filling the
 * disk. statfs is cheap but not free, so it is read at most every `intervalMs` or after `bytesBetweenChecks`.
 */
import { statfsSync } from 'node:fs';

export type FreeBytes = (dir: string) => number;

export const statfsFree: FreeBytes = (dir) => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

export class DiskGuard {
  private checkedAt = 0;
  private written = 0;
  private ok = true;
  lastFree = Infinity;

  constructor(
    private readonly dirs: readonly string[],
    private readonly minimum: number,
    private readonly free: FreeBytes = statfsFree,
    private readonly intervalMs = 1000,
    private readonly bytesBetweenChecks = 16 * 1024 * 1024,
  ) {}

  /** True when every directory has at least `minimum + incoming` bytes free. */
  hasRoom(incoming: number, now = Date.now()): boolean {
    if (this.minimum <= 0) return true;
    if (!this.ok || now - this.checkedAt >= this.intervalMs || this.written + incoming >= this.bytesBetweenChecks) {
      this.lastFree = Math.min(...this.dirs.map((d) => this.free(d)));
      this.checkedAt = now;
      this.written = 0;
      this.ok = this.lastFree - incoming >= this.minimum;
    }
    if (this.ok) this.written += incoming;
    return this.ok;
  }
}

/**
 * Making a file system "short" of space without root tricks: the file channel keeps minimumRequiredSpace free,
 * so a test sets that just below the current free space and then takes the difference away with a filler file.
 * The machine is shared, so the filler is bounded (refused beyond `maxBytes`) and the caller removes it in a
 * `finally`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes an unprivileged writer may still use on the file system of `dir` (what the channel's DiskGuard reads). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export interface Filler {
  path: string;
  bytes: number;
  remove(): void;
}

/** Allocates (not sparse) a file of `bytes` in `dir`; refuses more than `maxBytes`. */
export function fill(dir: string, bytes: number, maxBytes: number): Filler {
  if (!(bytes > 0) || bytes > maxBytes) throw new Error(`refusing a ${bytes}-byte filler (bound ${maxBytes}): the free space moved too much since the test measured it`);
  const path = join(dir, 'disk-filler.bin');
  const filler = { path, bytes, remove: () => rmSync(path, { force: true }) };
  try {
    execFileSync('fallocate', ['-l', String(bytes), path], { stdio: 'ignore' });
  } catch {
    // No fallocate (or a file system without it): write real blocks.
    try {
      const fd = openSync(path, 'w');
      try {
        const chunk = Buffer.alloc(8 << 20);
        for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      filler.remove();
      throw error;
    }
  }
  return filler;
}

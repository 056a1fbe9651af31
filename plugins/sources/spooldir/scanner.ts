/**
 * Lists the files that are ready to read, in consume order. A file is ready when it passes the name filters and
 * has settled: its size and mtime stayed the same for fileStableMs (or its mtime is already that old), so a file
 * that is still being written is left alone. Problems found here (a reused name, a symlink leaving the spool
 * directory) are reported to `onReject`, which quarantines the file without reading it.
 */
import { type Dirent, type Stats, promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export type ConsumeOrder = 'oldest' | 'youngest' | 'random';

export interface Candidate {
  abs: string;
  /** Path relative to the spool directory. */
  rel: string;
  name: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export interface ScannerOptions {
  spoolDir: string;
  trackerDir: string;
  fileSuffix: string;
  include: RegExp;
  ignore: RegExp;
  recursive: boolean;
  fileStableMs: number;
  order: ConsumeOrder;
  /** Called for a file that must not be read; the scan continues. */
  onReject(abs: string, reason: 'name-reused' | 'outside-spool-dir'): Promise<void>;
}

export interface ScanResult {
  ready: Candidate[];
  /** Matching files that are still settling (being written). */
  waiting: number;
}

const STAT_CONCURRENCY = 64;

export class Scanner {
  /** First time each file was seen with its current size and mtime. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
  private realSpoolDir: string | undefined;

  constructor(private readonly options: ScannerOptions) {}

  async scan(now = Date.now()): Promise<ScanResult> {
    const o = this.options;
    this.realSpoolDir ??= await fsp.realpath(o.spoolDir);
    const found: { abs: string; name: string; link: boolean }[] = [];
    await this.walk(o.spoolDir, found);

    const ready: Candidate[] = [];
    let waiting = 0;
    const seenNow = new Set<string>();
    for (let i = 0; i < found.length; i += STAT_CONCURRENCY) {
      const stats = await Promise.all(found.slice(i, i + STAT_CONCURRENCY).map((f) => this.statCandidate(f.abs, f.link)));
      for (let j = 0; j < stats.length; j++) {
        const st = stats[j];
        if (!st) continue;
        const { abs, name } = found[i + j]!;
        seenNow.add(abs);
        if (this.settled(abs, st, now)) {
          ready.push({ abs, rel: relative(o.spoolDir, abs), name, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev });
        } else waiting++;
      }
    }
    for (const key of this.seen.keys()) if (!seenNow.has(key)) this.seen.delete(key);
    return { ready: order(ready, o.order), waiting };
  }

  private async walk(dir: string, found: { abs: string; name: string; link: boolean }[]): Promise<void> {
    const o = this.options;
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (error) {
      // The spool directory itself must exist; a subdirectory may vanish between listing and reading.
      if (dir === o.spoolDir) throw error;
      return;
    }
    const names = new Set<string>();
    for (const e of entries) names.add(e.name);
    for (const e of entries) {
      const name = e.name;
      // Hidden names are the usual temp files of writers that rename into place (rsync, editors).
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      if (abs === o.trackerDir) continue;
      if (e.isDirectory()) {
        if (o.recursive) await this.walk(abs, found);
        continue;
      }
      const link = e.isSymbolicLink();
      if (!e.isFile() && !link) continue; // FIFOs, sockets, devices: opening a FIFO would block
      if (name.endsWith(o.fileSuffix) || !o.include.test(name) || o.ignore.test(name)) continue;
      if (link && !(await this.insideSpoolDir(abs))) {
        await o.onReject(abs, 'outside-spool-dir');
        continue;
      }
      if (names.has(name + o.fileSuffix)) {
        await o.onReject(abs, 'name-reused');
        continue;
      }
      found.push({ abs, name, link });
    }
  }

  private async insideSpoolDir(link: string): Promise<boolean> {
    let real: string;
    try {
      real = await fsp.realpath(link);
    } catch {
      return true; // dangling: the stat that follows fails and the link is skipped
    }
    return isInside(this.realSpoolDir!, real) && !isInside(this.options.trackerDir, real);
  }

  /** Stats a listed file (following an inside link); undefined when it vanished or is not a regular file. */
  private async statCandidate(abs: string, link: boolean): Promise<Stats | undefined> {
    try {
      const st = link ? await fsp.stat(abs) : await fsp.lstat(abs);
      return st.isFile() ? st : undefined;
    } catch {
      return undefined;
    }
  }

  private settled(abs: string, st: Stats, now: number): boolean {
    const stable = this.options.fileStableMs;
    const prev = this.seen.get(abs);
    let since = now;
    if (prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs) since = prev.since;
    else this.seen.set(abs, { size: st.size, mtimeMs: st.mtimeMs, since });
    // An old mtime settles a file moved in atomically at once; our own observation also covers clocks that
    // disagree (a file system stamping mtimes in the future).
    return now - st.mtimeMs >= stable || now - since >= stable;
  }
}

export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel);
}

/** Sorts in consume order: by mtime (ties by path) or shuffled. */
export function order(files: Candidate[], how: ConsumeOrder): Candidate[] {
  if (how === 'random') {
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [files[i], files[j]] = [files[j]!, files[i]!];
    }
    return files;
  }
  const sign = how === 'oldest' ? 1 : -1;
  return files.sort((a, b) => sign * (a.mtimeMs - b.mtimeMs) || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

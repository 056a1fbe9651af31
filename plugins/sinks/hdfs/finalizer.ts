/**
 * Making files visible: every in-use file ends renamed to its final name, with exactly the bytes HDFS
 * acknowledged, even when HDFS or the agent failed in between. Three kinds of work, retried with backoff until
 * they succeed (a rename that fails never fails a batch that HDFS already acknowledged):
 *
 * - closed: rolled cleanly; only the rename is left.
 * - abandoned: an append failed after part of its batch may have landed. The file is first renamed to a name that
 *   records the acknowledged length (`….acked-<bytes>.tmp`), so the cut survives an agent restart; then it is
 *   closed (an empty APPEND: if the failed writer still holds the file's lease, HDFS recovers the lease once the
 *   60-second soft limit has passed), truncated back to the acknowledged length and renamed. The redelivered
 *   batch goes to a new file, so no event is written twice.
 * - leftover: an in-use file an earlier run left behind (found by `scan` on start). Its acknowledged length is
 *   unknown: it is closed, a torn last line is cut (DataStream only) and it is renamed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { inUseName, joinPath, type HdfsOps, type Naming } from './bucket-writer.ts';
import { WebHdfsError } from './webhdfs-client.ts';

export type Pending = (
  | { kind: 'closed'; path: string; final: string }
  | { kind: 'abandoned'; path: string; final: string; dir: string; base: string; acked: number; marked?: boolean }
  | { kind: 'leftover'; path: string; final: string }
) & { /** Found by `scan`: left by an earlier run. */ found?: boolean };

type Entry = Pending & { attempts: number; notBefore: number };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TAIL = 64 * 1024;

/** Matches this sink's in-use names: group 1 is the final name, group 2 the acknowledged length when marked. */
export function inUsePattern(naming: Naming): RegExp {
  const { inUsePrefix, filePrefix, fileSuffix, inUseSuffix } = naming;
  return new RegExp(`^${escape(inUsePrefix)}(${escape(filePrefix)}\\.\\d+${escape(fileSuffix)})(?:\\.acked-(\\d+))?${escape(inUseSuffix)}$`);
}

export class Finalizer {
  private entries: Entry[] = [];
  private readonly pattern: RegExp;

  constructor(
    private readonly fs: HdfsOps,
    private readonly naming: Naming,
    /** true for DataStream: every record ends with '\n', so a torn tail can be found. */
    private readonly lines: boolean,
    private readonly log: Logger,
    private readonly finalized: (p: Pending) => void,
  ) {
    this.pattern = inUsePattern(naming);
  }

  get size(): number {
    return this.entries.length;
  }

  add(p: Pending): void {
    if (!this.entries.some((e) => e.path === p.path)) this.entries.push({ ...p, attempts: 0, notBefore: 0 });
  }

  /** Tries every entry whose backoff has passed (all with `force`); keeps the ones that fail. Never throws. */
  async run(force = false): Promise<void> {
    const now = Date.now();
    const keep: Entry[] = [];
    const current = this.entries;
    this.entries = [];
    for (const e of current) {
      if (!force && e.notBefore > now) {
        keep.push(e);
        continue;
      }
      try {
        if ((await this.finalize(e)) === 'renamed') this.finalized(e);
      } catch (error) {
        e.attempts++;
        e.notBefore = Date.now() + Math.min(10_000, 500 * 2 ** Math.min(e.attempts, 5));
        const level = e.attempts === 1 || e.attempts % 20 === 0 ? 'warn' : 'debug';
        this.log[level]({ file: e.path, kind: e.kind, attempts: e.attempts, error: (error as Error).message }, 'Could not finalize an HDFS file yet; will retry.');
        keep.push(e);
      }
    }
    this.entries = keep.concat(this.entries);
  }

  /** Finds in-use files of this sink under `root`, `depth` directory levels deep (unbounded when undefined). */
  async scan(root: string, depth: number | undefined, exclude: ReadonlySet<string>): Promise<number> {
    let found = 0;
    let level = [root];
    for (let d = 0; level.length > 0; d++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 8) {
        await Promise.all(level.slice(i, i + 8).map(async (dir) => {
          for (const s of (await this.fs.list(dir)) ?? []) {
            const path = joinPath(dir, s.pathSuffix);
            if (s.type === 'DIRECTORY' && (depth === undefined || d < depth)) next.push(path);
            const m = s.type === 'FILE' ? this.pattern.exec(s.pathSuffix) : null;
            if (!m || exclude.has(path)) continue;
            found++;
            const final = joinPath(dir, m[1]!);
            if (m[2] === undefined) this.add({ kind: 'leftover', path, final, found: true });
            else this.add({ kind: 'abandoned', path, final, dir, base: m[1]!, acked: Number(m[2]), marked: true, found: true });
          }
        }));
      }
      level = next;
    }
    return found;
  }

  /** Renames the file to its final name, or deletes it when none of it is worth keeping. */
  private async finalize(p: Entry): Promise<'renamed' | 'deleted' | 'gone'> {
    if (p.kind === 'closed') return this.rename(p.path, p.final);
    if (p.kind === 'abandoned' && p.acked === 0) {
      await this.fs.delete(p.path); // nothing of it was acknowledged: the whole batch is redelivered elsewhere
      return 'deleted';
    }
    if (p.kind === 'abandoned' && !p.marked) {
      const marked = joinPath(p.dir, inUseName(this.naming, p.base, p.acked));
      await this.rename(p.path, marked);
      Object.assign(p, { path: marked, marked: true });
    }
    try {
      await this.fs.append(p.path, Buffer.alloc(0)); // closes the file, recovering a lease a failed writer left
    } catch (error) {
      if (!(error instanceof WebHdfsError && error.status === 404)) throw error;
      this.log.warn({ file: p.path }, 'In-use file disappeared before it was finalized.');
      return 'gone';
    }
    const length = (await this.fs.status(p.path))?.length ?? 0;
    const keep = p.kind === 'abandoned' ? p.acked : await this.completeLines(p.path, length);
    if (keep === 0) {
      await this.fs.delete(p.path); // a leftover without one complete record
      return 'deleted';
    }
    if (keep < length) {
      if (!(await this.fs.truncate(p.path, keep))) await this.truncated(p.path, keep);
      this.log.info({ file: p.path, length, kept: keep }, 'Cut the unacknowledged end of an HDFS file.');
    } else if (keep > length) {
      this.log.error({ file: p.path, length, acknowledged: keep }, 'HDFS file is shorter than what HDFS acknowledged.');
    }
    return this.rename(p.path, p.final);
  }

  /**
   * A truncate inside a block finishes with a block recovery; until then readers still see the old bytes, so the
   * file keeps its in-use name. Waits up to 10 s, else leaves the rest to a later attempt.
   */
  private async truncated(path: string, length: number): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await sleep(200);
      if ((await this.fs.status(path))?.length === length) return;
    }
    throw new Error(`the truncate of ${path} to ${length} bytes is still in progress`);
  }

  /** The length up to the last '\n' (DataStream), or `length` when that cannot be told. */
  private async completeLines(path: string, length: number): Promise<number> {
    if (!this.lines || length === 0) return length;
    const from = Math.max(0, length - TAIL);
    const tail = await this.fs.read(path, from, length - from);
    const nl = tail.lastIndexOf(10);
    if (nl === tail.length - 1) return length;
    return nl >= 0 ? from + nl + 1 : from === 0 ? 0 : length;
  }

  /** A rename that is idempotent: done when the source is gone and the target exists (an earlier reply was lost). */
  private async rename(from: string, to: string): Promise<'renamed'> {
    if (await this.fs.rename(from, to)) return 'renamed';
    const [src, dst] = await Promise.all([this.fs.status(from), this.fs.status(to)]);
    if (!src && dst) return 'renamed';
    throw new Error(src ? `cannot rename ${from}: ${to} exists` : `cannot rename ${from}: it does not exist`);
  }
}

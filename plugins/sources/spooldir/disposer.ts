/**
 * What happens to a file once the source is done with it: renamed with the completed suffix or deleted, or moved
 * aside into the quarantine directory when it broke the spool rules. Flume stops ingesting for good on such
 * files; here the file is set aside with a warning and a counter, and the source carries on.
 */
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { errorMessage, type ComponentContext } from '../../../agent/index.ts';

export type QuarantineReason = 'name-reused' | 'modified-after-read' | 'outside-spool-dir';

export interface DisposerOptions {
  trackerDir: string;
  fileSuffix: string;
  deletePolicy: 'never' | 'immediate';
}

export type CompleteResult = 'completed' | 'quarantined' | 'gone' | 'failed';

export class Disposer {
  readonly quarantineDir: string;
  private readonly quarantined: { inc(n?: number): void };
  private readonly completed: { inc(n?: number): void };
  /** Files already reported as impossible to move, so a failing rename is not logged on every scan. */
  private readonly stuck = new Set<string>();

  constructor(
    private readonly options: DisposerOptions,
    private readonly ctx: Pick<ComponentContext, 'log' | 'metrics'>,
  ) {
    this.quarantineDir = join(options.trackerDir, 'quarantine');
    this.quarantined = ctx.metrics.counter('files_quarantined_total', 'Files moved aside into the quarantine directory instead of being read to completion.');
    this.completed = ctx.metrics.counter('files_completed_total', 'Files read to the end, acknowledged, then renamed or deleted.');
  }

  /**
   * Moves a file into `<trackerDir>/quarantine/<name>.<epochms>`. With `ino`, only when the path still names that
   * file (it may have been replaced meanwhile). Returns false when it could not be moved.
   */
  async quarantine(abs: string, reason: QuarantineReason, ino?: number): Promise<boolean> {
    try {
      // stat, not lstat: for a symlink inside the spool directory the recorded inode is its target's.
      if (ino !== undefined && (await fsp.stat(abs)).ino !== ino) return false;
      await fsp.mkdir(this.quarantineDir, { recursive: true });
      const target = await this.freeName(join(this.quarantineDir, `${basename(abs)}.${Date.now()}`));
      await fsp.rename(abs, target);
      this.stuck.delete(abs);
      this.quarantined.inc();
      this.ctx.log.warn({ file: abs, reason, quarantinedAs: target }, 'spooldir: file quarantined');
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      if (!this.stuck.has(abs)) {
        this.stuck.add(abs);
        this.quarantined.inc();
        this.ctx.log.warn({ file: abs, reason, err: errorMessage(error) }, 'spooldir: file rejected but could not be moved to quarantine; it is skipped');
      }
      return false;
    }
  }

  /** Renames a fully acknowledged file with the completed suffix (or deletes it), unless it was replaced. */
  async complete(abs: string, ino: number): Promise<CompleteResult> {
    try {
      if ((await fsp.stat(abs)).ino !== ino) return 'gone';
      if (this.options.deletePolicy === 'immediate') {
        await fsp.unlink(abs);
      } else {
        const target = abs + this.options.fileSuffix;
        // rename() would silently replace an existing completed file: that is a reused name, never overwrite.
        if (await exists(target)) return (await this.quarantine(abs, 'name-reused', ino)) ? 'quarantined' : 'failed';
        await fsp.rename(abs, target);
      }
      this.stuck.delete(abs);
      this.completed.inc();
      return 'completed';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      if (!this.stuck.has(abs)) {
        this.stuck.add(abs);
        this.ctx.log.error({ file: abs, err: errorMessage(error) }, 'spooldir: file fully read but could not be renamed or deleted; retrying later');
      }
      return 'failed';
    }
  }

  private async freeName(path: string): Promise<string> {
    let candidate = path;
    for (let i = 1; await exists(candidate); i++) candidate = `${path}-${i}`;
    return candidate;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The running file_roll sink: one open temporary at a time, appended to once per batch, rolled (closed and
 * renamed) by age and size. The plugin definition and its schema are in ../file-roll.ts.
 */
import { access, mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AgentError, ErrorCodes, errorMessage, toMillis, type ComponentContext, type Event, type Sink, type WriteResult,
} from '../../../agent/index.ts';
import { finalName, finalizeTemp, recoverTemps, syncDirectory, tempName, type FileNaming } from './files.ts';
import { encodeBatch, type FileFormat } from './format.ts';

export interface FileRollConfig {
  directory: string;
  rollInterval: number | string;
  rollSize: number;
  prefix: string;
  extension?: string;
  format: FileFormat;
  fsync: boolean;
  batchSize: number;
}

interface OpenFile {
  /** null once closed (or abandoned after a failed write) while its rename is still to be done. */
  handle: FileHandle | null;
  tmpPath: string;
  finalPath: string;
  size: number;
  openedAt: number;
  /** A failed write may have left part of a batch at the end: trim it before the rename. */
  torn: boolean;
}

export class FileRollSink implements Sink {
  private readonly directory: string;
  private readonly naming: FileNaming;
  private readonly rollIntervalMs: number;
  private readonly config: Readonly<FileRollConfig>;
  private readonly ctx: ComponentContext;
  private readonly rolled: ReturnType<ComponentContext['metrics']['counter']>;
  private current: OpenFile | undefined;
  private seq = 0;
  // Nothing in the contract forbids idle or stop arriving while a write is in flight, and a roll must never
  // close a file under a pending write, so every operation runs in turn.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(config: Readonly<FileRollConfig>, ctx: ComponentContext) {
    this.config = config;
    this.ctx = ctx;
    this.directory = resolve(ctx.configDir, config.directory);
    this.naming = { prefix: config.prefix, extension: config.extension ?? (config.format === 'text' ? 'log' : 'jsonl') };
    this.rollIntervalMs = toMillis(config.rollInterval, 's');
    this.rolled = ctx.metrics.counter('files_rolled_total', 'Files closed and renamed to their final name.');
  }

  start(): Promise<void> {
    return this.exclusive(async () => {
      await mkdir(this.directory, { recursive: true });
      const { renamed, deleted } = await recoverTemps(this.directory, this.naming);
      if (renamed.length + deleted.length > 0) {
        this.ctx.log.info({ directory: this.directory, renamed, deleted }, 'Finalized files left open by a previous run.');
      }
    });
  }

  write(events: readonly Event[]): Promise<WriteResult | void> {
    return this.exclusive(() => this.writeBatch(events));
  }

  idle(): Promise<void> {
    return this.exclusive(async () => {
      if (this.current && this.rollDue(this.current, Date.now())) await this.roll();
    });
  }

  stop(): Promise<void> {
    return this.exclusive(() => this.roll());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private rollDue(file: OpenFile, now: number): boolean {
    return (
      file.handle === null ||
      (this.rollIntervalMs > 0 && now - file.openedAt >= this.rollIntervalMs) ||
      (this.config.rollSize > 0 && file.size >= this.config.rollSize)
    );
  }

  private async writeBatch(events: readonly Event[]): Promise<WriteResult | void> {
    const { text, rejected } = encodeBatch(events, this.config.format);
    const now = Date.now();
    // Rolling before the write means a failed roll fails the batch before any byte of it is written.
    if (this.current && this.rollDue(this.current, now)) await this.roll();
    if (text.length > 0) {
      const file = this.current ?? (await this.openNext(now));
      await this.append(file, Buffer.from(text, 'utf8'), events.length);
      if (this.config.rollSize > 0 && file.size >= this.config.rollSize) {
        // The batch is durable already, so a failed rename must not fail it (that would duplicate it): the
        // file stays current and the next write or idle retries the roll.
        await this.roll().catch((error) => this.ctx.log.warn({ err: error, file: file.tmpPath }, 'Roll failed; will retry.'));
      }
    }
    return rejected.length > 0 ? { rejected } : undefined;
  }

  /**
   * One write call for the whole batch (looping only on a short write). On failure the file is truncated back
   * to the last acknowledged batch so the redelivered batch is not duplicated; if even that fails, the file is
   * abandoned and the partial batch stays in it: the redelivery then duplicates those events (at-least-once,
   * never lost), and the torn last line is trimmed when the file is finalized.
   */
  private async append(file: OpenFile, data: Buffer, count: number): Promise<void> {
    const handle = file.handle!;
    const before = file.size;
    try {
      for (let offset = 0; offset < data.length; ) {
        offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
      }
      // fdatasync flushes the data and the file size, which is all a reader after a crash needs.
      if (this.config.fsync) await handle.datasync();
    } catch (error) {
      try {
        await handle.truncate(before);
      } catch {
        file.torn = true;
        file.handle = null;
        await handle.close().catch(() => undefined);
      }
      throw new AgentError(
        ErrorCodes.SINK_WRITE,
        `file_roll could not write ${count} events to ${file.tmpPath}: ${errorMessage(error)}. The batch will be ` +
          `retried; check free space and permissions on ${this.directory}.`,
        { retriable: true, cause: error },
      );
    }
    file.size = before + data.length;
  }

  private async openNext(now: number): Promise<OpenFile> {
    for (let attempt = 0; ; attempt++) {
      const final = finalName(this.naming, now, ++this.seq);
      const finalPath = join(this.directory, final);
      const tmpPath = join(this.directory, tempName(final));
      // A name already taken (a restart within the same millisecond) must never be overwritten by the rename.
      if (await access(finalPath).then(() => true, () => false)) continue;
      try {
        // 'ax': O_APPEND so every write lands at the end (also after a truncate), O_EXCL for the same reason as above.
        const handle = await open(tmpPath, 'ax');
        // Without this, a machine crash can lose the new file's directory entry and with it batches fsynced into it.
        if (this.config.fsync) await syncDirectory(this.directory).catch((error) => discard(handle, tmpPath, error));
        this.current = { handle, tmpPath, finalPath, size: 0, openedAt: now, torn: false };
        return this.current;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && attempt < 100) continue;
        // Someone removed the directory under us: recreate it rather than fail every batch until a restart.
        if (code === 'ENOENT' && attempt < 100) {
          await mkdir(this.directory, { recursive: true });
          continue;
        }
        throw new AgentError(
          ErrorCodes.SINK_WRITE,
          `file_roll could not create ${tmpPath}: ${errorMessage(error)}. Check that ${this.directory} is writable.`,
          { retriable: true, cause: error },
        );
      }
    }
  }

  /** Closes the current file and renames it (or deletes it when empty). Safe to call again after a failure. */
  private async roll(): Promise<void> {
    const file = this.current;
    if (!file) return;
    if (file.handle) {
      const handle = file.handle;
      file.handle = null;
      await handle.close();
    }
    const outcome = await finalizeTemp(file.tmpPath, file.finalPath, file.torn ? undefined : file.size);
    this.current = undefined;
    if (outcome === 'renamed') this.rolled.inc();
    this.ctx.log.debug({ file: file.finalPath, bytes: file.size, outcome }, 'Rolled file.');
  }
}

/** Closes and removes a file just created, then rethrows the error that made it useless. */
async function discard(handle: FileHandle, path: string, error: unknown): Promise<never> {
  await handle.close().catch(() => undefined);
  await unlink(path).catch(() => undefined);
  throw error;
}


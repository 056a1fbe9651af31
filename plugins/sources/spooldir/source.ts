/**
 * The spooldir source's loop: finish the file the durable position names, then list ready files and read them one
 * at a time, then sleep until chokidar reports a change or pollDelay passes (the scan is the safety net; watcher
 * events only wake it early). Per-file problems are logged, counted and skipped; run() returns when stopped.
 */
import * as fs from 'node:fs';
import { basename, join, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { AgentError, ErrorCodes, errorMessage, type ComponentContext, type Source, type SourceRunContext } from '../../../agent/index.ts';
import { headerFactory, LineDecoder, type LineFormat } from './decoder.ts';
import { Disposer } from './disposer.ts';
import { FileReader } from './file-reader.ts';
import { Scanner, type Candidate, type ConsumeOrder } from './scanner.ts';
import { PositionTracker } from './tracker.ts';

const fsp = fs.promises;

export interface SpoolOptions {
  spoolDir: string;
  trackerDir: string;
  fileSuffix: string;
  deletePolicy: 'never' | 'immediate';
  fileHeaderKey: string | undefined;
  basenameHeaderKey: string | undefined;
  include: RegExp;
  ignore: RegExp;
  consumeOrder: ConsumeOrder;
  pollDelayMs: number;
  recursive: boolean;
  batchSize: number;
  charset: string;
  utf8: boolean;
  maxLineLength: number;
  format: LineFormat;
  fileStableMs: number;
}

/** Longest wait before retrying a file that could not be opened. */
const MAX_RETRY_MS = 60_000;

export class SpoolDirSource implements Source {
  private watcher: FSWatcher | undefined;
  private tracker: PositionTracker | undefined;
  private readonly disposer: Disposer;
  private readonly readFailures: { inc(n?: number): void };
  private readonly pending: { set(v: number): void };
  /** Files that could not be opened: when to try again and how long the last wait was. */
  private readonly retry = new Map<string, { at: number; delay: number }>();
  /** Fully read files that could not be renamed, deleted or quarantined: never read again, only disposed of. */
  private readonly unfinished = new Map<string, { ino: number; quarantine: boolean }>();
  private wake: (() => void) | undefined;
  private woken = false;

  constructor(
    private readonly o: SpoolOptions,
    private readonly base: ComponentContext,
  ) {
    this.disposer = new Disposer(o, base);
    this.readFailures = base.metrics.counter('read_failures_total', 'Inputs that could not be read (bad lines, unreadable files).');
    this.pending = base.metrics.gauge('files_pending', 'Files in the spool directory waiting to be read (including those still being written).');
  }

  async run(ctx: SourceRunContext): Promise<void> {
    const { o } = this;
    const dir = await fsp.stat(o.spoolDir).catch((error: NodeJS.ErrnoException) => error);
    if (!(dir instanceof fs.Stats) || !dir.isDirectory()) {
      const why = dir instanceof fs.Stats ? 'is not a directory' : `cannot be read (${dir.code ?? errorMessage(dir)})`;
      throw new AgentError(ErrorCodes.SOURCE_READ, `spoolDir ${o.spoolDir} ${why}. Create it, or fix spoolDir in the configuration.`, { retriable: true });
    }
    const tracker = (this.tracker = await PositionTracker.open(o.trackerDir));
    try {
      const decoder = new LineDecoder({ format: o.format, charset: o.charset, maxLineLength: o.maxLineLength, deadLetter: (e, r, d) => ctx.deadLetter(e, r, d) });
      const reader = new FileReader({ batchSize: o.batchSize, maxLineLength: o.maxLineLength, stripBom: o.utf8 }, tracker, decoder);
      const scanner = new Scanner({
        spoolDir: o.spoolDir, trackerDir: o.trackerDir, fileSuffix: o.fileSuffix, include: o.include, ignore: o.ignore,
        recursive: o.recursive, fileStableMs: o.fileStableMs, order: o.consumeOrder,
        onReject: async (abs, reason) => void (await this.disposer.quarantine(abs, reason)),
      });
      this.startWatcher(ctx);
      const resumed = await this.resumable(tracker);
      if (resumed && (await this.handle(resumed, reader, decoder, ctx)) === 'stop') return;
      while (!ctx.signal.aborted) {
        this.woken = false;
        const { ready, waiting } = await scanner.scan();
        this.pending.set(ready.length + waiting);
        if (this.retry.size > 0 || this.unfinished.size > 0) this.forgetVanished(ready);
        let progressed = false;
        for (const file of ready) {
          if (ctx.signal.aborted) return;
          const due = this.retry.get(file.abs);
          if (due && due.at > Date.now()) continue;
          const outcome = await this.handle(file, reader, decoder, ctx);
          if (outcome === 'stop') return;
          // Only real progress skips the sleep: a file skipped on every pass must not turn this into a busy loop.
          if (outcome === 'done') progressed = true;
          // A newer file may have arrived: youngest-first (and random) must look again before the next one.
          if (this.woken && o.consumeOrder !== 'oldest') break;
        }
        // While a file is being written its change events would wake a scan per write; the poll catches it.
        if (!progressed) await this.sleep(o.pollDelayMs, ctx.signal, waiting === 0);
      }
    } finally {
      await this.closeResources();
    }
  }

  async close(): Promise<void> {
    await this.closeResources();
  }

  /** Reads one file and disposes of it: 'stop' when the source must stop, 'skipped' when nothing was done. */
  private async handle(file: Candidate, reader: FileReader, decoder: LineDecoder, ctx: SourceRunContext): Promise<'done' | 'skipped' | 'stop'> {
    const { o } = this;
    const tracker = this.tracker!;
    const leftover = this.unfinished.get(file.abs);
    if (leftover && leftover.ino === file.ino) {
      const ok = leftover.quarantine
        ? await this.disposer.quarantine(file.abs, 'modified-after-read', file.ino)
        : (await this.disposer.complete(file.abs, file.ino)) !== 'failed';
      if (!ok) return 'skipped';
      this.unfinished.delete(file.abs);
      return 'done';
    }
    const headers: [string, string][] = [];
    if (o.fileHeaderKey !== undefined) headers.push([o.fileHeaderKey, file.abs]);
    if (o.basenameHeaderKey !== undefined) headers.push([o.basenameHeaderKey, file.name]);
    decoder.headers = headerFactory(headers);
    decoder.source = file.rel;
    const result = await reader.read(file, ctx);
    switch (result.kind) {
      case 'stopped':
        if (result.error !== undefined && !ctx.signal.aborted) {
          ctx.log.warn({ file: file.abs, err: errorMessage(result.error) }, 'spooldir: emit failed; stopping without advancing the position');
        }
        return 'stop';
      case 'skipped':
        return 'skipped';
      case 'unreadable': {
        const prev = this.retry.get(file.abs);
        const delay = Math.min(MAX_RETRY_MS, prev ? prev.delay * 2 : o.pollDelayMs);
        this.retry.set(file.abs, { at: Date.now() + delay, delay });
        this.readFailures.inc();
        ctx.log.warn({ file: file.abs, code: result.error.code, err: errorMessage(result.error), retryInMs: delay }, 'spooldir: cannot read file; will retry');
        return 'skipped';
      }
      case 'done': {
        this.retry.delete(file.abs);
        const ino = tracker.position?.ino ?? file.ino;
        if (result.modified) {
          // false also when the path now names another file, which is then read as a new one.
          if (!(await this.disposer.quarantine(file.abs, 'modified-after-read', ino)) && (await sameFile(file.abs, ino))) {
            this.unfinished.set(file.abs, { ino, quarantine: true });
          }
        } else if ((await this.disposer.complete(file.abs, ino)) === 'failed') {
          this.unfinished.set(file.abs, { ino, quarantine: false });
        } else ctx.log.debug({ file: file.abs, lines: result.lines }, 'spooldir: file completed');
        tracker.clear();
        return 'done';
      }
    }
  }

  private forgetVanished(ready: Candidate[]): void {
    const present = new Set(ready.map((f) => f.abs));
    for (const abs of this.retry.keys()) if (!present.has(abs)) this.retry.delete(abs);
    for (const abs of this.unfinished.keys()) if (!present.has(abs)) this.unfinished.delete(abs);
  }

  /** The file the durable position names, when it is still there: it is finished before anything else. */
  private async resumable(tracker: PositionTracker): Promise<Candidate | undefined> {
    const pos = tracker.position;
    if (!pos) return undefined;
    const abs = join(this.o.spoolDir, pos.path);
    const st = await fsp.stat(abs).catch(() => undefined);
    if (!st || st.ino !== pos.ino || st.dev !== pos.dev) {
      // Completed (renamed) or removed before the position was cleared.
      tracker.clear();
      return undefined;
    }
    return { abs, rel: pos.path, name: basename(abs), size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
  }

  private startWatcher(ctx: SourceRunContext): void {
    const { o } = this;
    const trackerPrefix = o.trackerDir + sep;
    try {
      const watcher = watch(o.spoolDir, {
        ignoreInitial: true,
        persistent: true,
        followSymlinks: false,
        ignorePermissionErrors: true,
        ...(o.recursive ? {} : { depth: 0 }),
        ignored: (p: string) => p === o.trackerDir || p.startsWith(trackerPrefix),
      });
      watcher.on('all', () => this.notify());
      watcher.on('error', (error) => ctx.log.warn({ err: errorMessage(error) }, 'spooldir: file watcher error; relying on the periodic scan'));
      this.watcher = watcher;
    } catch (error) {
      ctx.log.warn({ err: errorMessage(error) }, 'spooldir: cannot watch the spool directory; relying on the periodic scan');
    }
  }

  private notify(): void {
    this.woken = true;
    this.wake?.();
  }

  private sleep(ms: number, signal: AbortSignal, wakeOnChange: boolean): Promise<void> {
    if (signal.aborted || (wakeOnChange && this.woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeOnChange) this.wake = done;
    });
  }

  private async closeResources(): Promise<void> {
    const watcher = this.watcher;
    const tracker = this.tracker;
    this.watcher = undefined;
    this.tracker = undefined;
    this.wake = undefined;
    await watcher?.close().catch(() => {});
    await tracker?.close();
  }
}

async function sameFile(abs: string, ino: number): Promise<boolean> {
  return (await fsp.stat(abs).catch(() => undefined))?.ino === ino;
}

/**
 * The file that carries open windows across a graceful restart. Written atomically (temp file, fsync, rename,
 * fsync of the directory) so a crash mid-write leaves the previous file or none, never half of one. It is
 * consumed on load: removed once read, so a crash after the restart can lose those windows but never count them
 * twice. A file that cannot be used is moved aside to `<file>.corrupt` for a human, and the processor starts empty.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../../agent/index.ts';

const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');

export type Take<T> = { state: T } | { missing: true } | { quarantined: string };

export class StateStore {
  readonly file: string;

  /** `dir` is absolute (the caller resolves it against the config directory). */
  constructor(
    readonly dir: string,
    agent: string,
    component: string,
    private readonly log: Logger,
  ) {
    this.file = join(dir, `${safe(agent)}.${safe(component)}.aggregate.json`);
  }

  /**
   * Reads the file and hands its JSON to `accept`, which throws when the content does not fit; the file is then
   * removed (accepted) or moved aside (refused or unreadable).
   */
  take<T>(accept: (json: unknown) => T): Take<T> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
      return { quarantined: this.quarantine(`cannot be read: ${errorMessage(error)}`) };
    }
    let state: T;
    try {
      state = accept(JSON.parse(text));
    } catch (error) {
      return { quarantined: this.quarantine(errorMessage(error)) };
    }
    rmSync(this.file, { force: true });
    return { state };
  }

  private quarantine(why: string): string {
    const aside = `${this.file}.corrupt`;
    try {
      renameSync(this.file, aside);
      this.log.error({ file: this.file, movedTo: aside, reason: why }, 'Aggregate state file is unusable; moved aside, starting with no open windows.');
    } catch (error) {
      this.log.error({ file: this.file, reason: why, error: errorMessage(error) }, 'Aggregate state file is unusable and could not be moved aside; starting with no open windows.');
    }
    return why;
  }

  save(value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(value));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    // The rename is durable only once the directory entry is.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

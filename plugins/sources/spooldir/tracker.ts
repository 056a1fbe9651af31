/**
 * The durable read position: which file is being read and how far its lines were acknowledged.
 *
 * It is written after every acknowledged batch, so the write must be cheap: one small synchronous pwrite into a
 * file whose descriptor stays open. Two fixed slots alternate, each with a sequence number and a CRC, so a write
 * torn by a crash damages only the slot being written and the other one (the previous position) stays valid.
 * There is no fsync: a position that is lost or stale only makes the reader re-read lines that were already
 * delivered, never skip lines that were not, which is the at-least-once promise.
 *
 * The tracker also holds a lock file so two sources (or two agents) never share a spool directory.
 */
import { closeSync, openSync, readSync, writeSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AgentError, ErrorCodes } from '../../../agent/index.ts';

export interface Position {
  /** Path relative to the spool directory. */
  path: string;
  ino: number;
  dev: number;
  /** Size and mtime when the file was first opened, to detect a file modified while it was being read. */
  size: number;
  mtimeMs: number;
  /** Byte offset after the last acknowledged line. */
  offset: number;
  /** Lines consumed up to `offset` (events and dead letters). */
  lines: number;
}

export const POSITION_FILE = 'position.meta';
export const LOCK_FILE = 'lock';
export const SLOT_SIZE = 8192;
const HEADER = 24;
const MAGIC = 0x50535446; // "FTSP" little-endian

/** Directories locked by this process, so a second source in the same agent is refused too. */
const lockedHere = new Set<string>();

export class PositionTracker {
  private closed = false;
  private readonly slot = Buffer.alloc(SLOT_SIZE);

  private constructor(
    private readonly dir: string,
    private readonly fd: number,
    private seq: number,
    private current: Position | null,
  ) {}

  /** Opens (creating if needed) the tracker in `dir` and takes its lock. */
  static async open(dir: string): Promise<PositionTracker> {
    await fsp.mkdir(dir, { recursive: true });
    await acquireLock(dir);
    try {
      const fd = openPositionFile(join(dir, POSITION_FILE));
      const { seq, position } = readSlots(fd);
      return new PositionTracker(dir, fd, seq, position);
    } catch (error) {
      await releaseLock(dir);
      throw error;
    }
  }

  get position(): Readonly<Position> | null {
    return this.current;
  }

  save(position: Position): void {
    this.current = position;
    this.write(position);
  }

  /** Advances the current file's position after an acknowledged batch. */
  advance(offset: number, lines: number): void {
    const p = this.current;
    if (!p) throw new Error('spooldir tracker: advance() without a current file');
    if (p.offset === offset && p.lines === lines) return;
    p.offset = offset;
    p.lines = lines;
    this.write(p);
  }

  clear(): void {
    if (this.current === null) return;
    this.current = null;
    this.write(null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    await releaseLock(this.dir);
  }

  private write(position: Position | null): void {
    const seq = ++this.seq;
    const slot = this.slot;
    const len = slot.write(JSON.stringify(position), HEADER, 'utf8');
    if (len >= SLOT_SIZE - HEADER) throw new Error(`spooldir tracker: path too long for the position file: ${position?.path}`);
    slot.writeUInt32LE(MAGIC, 0);
    slot.writeUInt32LE(len, 8);
    slot.writeUInt32LE(0, 12);
    slot.writeDoubleLE(seq, 16);
    slot.writeUInt32LE(crc32(slot.subarray(8, HEADER + len)), 4);
    writeSync(this.fd, slot, 0, HEADER + len, (seq % 2) * SLOT_SIZE);
  }
}

/** Reads both slots and returns the newest valid one (a fresh or fully torn file reads as no position). */
export function readSlots(fd: number): { seq: number; position: Position | null } {
  const buf = Buffer.alloc(SLOT_SIZE * 2);
  const n = readSync(fd, buf, 0, buf.length, 0);
  let best: { seq: number; position: Position | null } = { seq: 0, position: null };
  for (let i = 0; i < 2; i++) {
    const base = i * SLOT_SIZE;
    if (n < base + HEADER || buf.readUInt32LE(base) !== MAGIC) continue;
    const len = buf.readUInt32LE(base + 8);
    if (len > SLOT_SIZE - HEADER || n < base + HEADER + len) continue;
    if (crc32(buf.subarray(base + 8, base + HEADER + len)) !== buf.readUInt32LE(base + 4)) continue;
    const seq = buf.readDoubleLE(base + 16);
    if (seq <= best.seq) continue;
    try {
      best = { seq, position: JSON.parse(buf.toString('utf8', base + HEADER, base + HEADER + len)) as Position | null };
    } catch {
      // A slot whose CRC matches but whose JSON does not parse was written by something else: ignore it.
    }
  }
  return best;
}

function openPositionFile(path: string): number {
  try {
    return openSync(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return openSync(path, 'w+');
  }
}

async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  if (lockedHere.has(dir)) throw locked(dir, process.pid);
  try {
    await fsp.writeFile(path, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const pid = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
    // Our own pid means a previous run of this process (or a previous container with the same pid) left it.
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) throw locked(dir, pid);
    await fsp.writeFile(path, `${process.pid}\n`);
  }
  lockedHere.add(dir);
}

async function releaseLock(dir: string): Promise<void> {
  if (!lockedHere.delete(dir)) return;
  await fsp.rm(join(dir, LOCK_FILE), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(dir: string, pid: number): AgentError {
  return new AgentError(
    ErrorCodes.DIRECTORY_LOCKED,
    `The spool tracker directory ${dir} is in use by another spooldir source (pid ${pid}). Give each source its own spoolDir, or stop the other agent.`,
    { retriable: true },
  );
}

/**
 * File names and the rename step of file_roll. A file is written under a hidden temporary name and renamed to
 * its final name only when complete, so a consumer that ignores dot-files never reads a file still growing.
 * The same finalize step recovers temporaries left behind by a crash: their data was acknowledged to the
 * channel, so leaving them hidden would lose it from the consumers' point of view.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileNaming {
  prefix: string;
  /** Without the dot; '' for no extension. */
  extension: string;
}

/** `<prefix><startMillis>-<n>.<ext>`: millis first so that names sort by the time the file was opened. */
export function finalName(naming: FileNaming, startMillis: number, n: number): string {
  return `${naming.prefix}${startMillis}-${n}${naming.extension ? `.${naming.extension}` : ''}`;
}

export function tempName(final: string): string {
  return `.${final}.tmp`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches only this sink's temporaries, so another sink sharing the directory with its own prefix is left alone. */
function tempPattern(naming: FileNaming): RegExp {
  const ext = naming.extension ? `\\.${escape(naming.extension)}` : '';
  return new RegExp(`^\\.(${escape(naming.prefix)}\\d+-\\d+${ext})\\.tmp$`);
}

/** Makes created and renamed entries of a directory durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const CHUNK = 64 * 1024;

/**
 * Cuts a trailing partial line (a batch torn by a crash or a failed write) and returns the size left. Every
 * line this sink writes ends with '\n', so anything after the last one was never acknowledged and will be
 * redelivered whole.
 */
export async function trimTornTail(path: string): Promise<number> {
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.min(CHUNK, size));
    let end = size;
    while (end > 0) {
      const length = Math.min(CHUNK, end);
      await handle.read(buffer, 0, length, end - length);
      const newline = buffer.lastIndexOf(10, length - 1);
      if (newline >= 0) {
        end = end - length + newline + 1;
        break;
      }
      end -= length;
    }
    if (end < size) await handle.truncate(end);
    return end;
  } finally {
    await handle.close();
  }
}

/**
 * Makes a closed temporary visible under its final name, or deletes it when it holds nothing, so no empty files
 * are left for consumers. `size` is the known size of a cleanly written file; without it the tail is checked.
 */
export async function finalizeTemp(tmpPath: string, finalPath: string, size?: number): Promise<'renamed' | 'deleted'> {
  const kept = size ?? (await trimTornTail(tmpPath));
  if (kept === 0) {
    await unlink(tmpPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return 'deleted';
  }
  // rename(2) is atomic: a crash leaves either the temporary (recovered on the next start) or the final file.
  await rename(tmpPath, finalPath);
  return 'renamed';
}

/** Finalizes every temporary of this sink found in the directory; call before opening any new file. */
export async function recoverTemps(directory: string, naming: FileNaming): Promise<{ renamed: string[]; deleted: string[] }> {
  const pattern = tempPattern(naming);
  const result = { renamed: [] as string[], deleted: [] as string[] };
  for (const name of (await readdir(directory)).sort()) {
    const match = pattern.exec(name);
    if (!match) continue;
    const final = match[1]!;
    const outcome = await finalizeTemp(join(directory, name), join(directory, final));
    result[outcome].push(final);
  }
  return result;
}

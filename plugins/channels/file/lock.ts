/**
 * Directory locks, so two file channels (in one agent or in two processes) never share a directory by accident.
 * The lock file holds the owner's pid and channel name; a lock whose process is gone is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError, ErrorCodes } from '../../../agent/index.ts';

const LOCK = '.fintrans.lock';
/** Locks held by this process: two channels of one agent share a pid, so the pid alone cannot tell them apart. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDirectory(dir: string, owner: string): () => void {
  const file = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, owner }));
      closeSync(fd);
      held.add(file);
      return () => {
        held.delete(file);
        try {
          unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let info: { pid?: number; owner?: string } = {};
      try {
        info = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // An unreadable lock (torn write) is treated as stale.
      }
      const ours = held.has(file);
      if (info.pid && (ours || (info.pid !== process.pid && alive(info.pid)))) {
        throw new AgentError(
          ErrorCodes.DIRECTORY_LOCKED,
          `Directory ${dir} is already used by ${info.owner ?? 'another file channel'} (pid ${info.pid}). Give each file channel its own checkpointDir and dataDirs.`,
          { component: owner },
        );
      }
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new AgentError(ErrorCodes.DIRECTORY_LOCKED, `Could not lock ${dir}.`, { component: owner });
}

/**
 * A steady stream of input: spool files written one after the other (atomically, through
 * test/helpers/pipeline.ts writeSpoolFile) so a fault lands mid-stream rather than after one burst.
 */
import { writeSpoolFile } from '../../helpers/pipeline.ts';

export interface Feed {
  /** Resolves once every file is in the spool directory. */
  done: Promise<void>;
  /** Files written so far. */
  written(): number;
  stop(): void;
}

/** Writes `files` files of `perFile` lines (ids from 0, in order) into `spool`, one every `everyMs`. */
export function feedSpool(spool: string, files: number, perFile: number, everyMs: number): Feed {
  let written = 0;
  let stopped = false;
  const done = (async () => {
    for (let f = 0; f < files && !stopped; f++) {
      writeSpoolFile(spool, `tx-${String(f).padStart(4, '0')}.jsonl`, f * perFile, perFile);
      written++;
      if (f < files - 1) await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { done, written: () => written, stop: () => void (stopped = true) };
}

/**
 * Rebuilds the channel from the segments on disk: every valid PUT record whose events were not all named by a
 * TAKE record is queued again, in log order. Only record headers and checksums are read here; event bodies are
 * decoded later, when a sink reaches them. Torn tails are cut; damaged records are reported and skipped.
 */
import { decodeTake, putSummary, PUT, scanSegment, TAKE, type Damage, type Range } from './record.ts';
import type { ChunkQueue } from './queue.ts';
import type { Segment, SegmentLog } from './segment-log.ts';

interface PutRef {
  segment: Segment;
  offset: number;
  length: number;
  start: number;
  count: number;
}

/** Sorted, merged ranges of consumed sequence numbers. */
export function mergeRanges(ranges: Range[]): Range[] {
  const sorted = ranges.filter((r) => r.count > 0).sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.start + last.count) last.count = Math.max(last.count, r.start + r.count - last.start);
    else out.push({ ...r });
  }
  return out;
}

/** Flags of the indexes of [start, start+count) covered by `merged`, or undefined when none are. */
export function consumedFlags(merged: readonly Range[], start: number, count: number): { flags?: Uint8Array; consumed: number } {
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = merged[mid]!;
    if (m.start + m.count <= start) lo = mid + 1;
    else hi = mid;
  }
  let flags: Uint8Array | undefined;
  let consumed = 0;
  for (let i = lo; i < merged.length && merged[i]!.start < start + count; i++) {
    const m = merged[i]!;
    const a = Math.max(m.start, start) - start;
    const b = Math.min(m.start + m.count, start + count) - start;
    if (b <= a) continue;
    flags ??= new Uint8Array(count);
    flags.fill(1, a, b);
    consumed += b - a;
  }
  return { flags, consumed };
}

export async function recover(log: SegmentLog, queue: ChunkQueue, onDamage: (d: Damage & { path: string }) => void): Promise<{ nextSeq: number; events: number; segments: number }> {
  const segments = await log.existing();
  const puts: PutRef[] = [];
  const taken: Range[] = [];
  let nextSeq = 0;
  for (const segment of segments) {
    const buf = await log.readAll(segment);
    segment.size = buf.length;
    const end = scanSegment(
      buf,
      (r) => {
        if (r.type === PUT) {
          const s = putSummary(r.payload);
          puts.push({ segment, offset: r.offset, length: r.length, start: s.start, count: s.count });
          nextSeq = Math.max(nextSeq, s.start + s.count);
        } else if (r.type === TAKE) {
          for (const t of decodeTake(r.payload)) taken.push(t);
        }
      },
      (d) => onDamage({ ...d, path: segment.path }),
    );
    if (end < buf.length) await log.truncate(segment, end);
  }
  const merged = mergeRanges(taken);
  let events = 0;
  for (const p of puts) {
    const { flags, consumed } = consumedFlags(merged, p.start, p.count);
    const remaining = p.count - consumed;
    if (remaining <= 0) continue;
    p.segment.live += remaining;
    events += remaining;
    queue.push({ segment: p.segment, start: p.start, count: p.count, pos: 0, skip: flags, payloadOffset: p.offset + 20, payloadLength: p.length - 20 }, remaining);
  }
  await log.start(segments);
  await log.deleteConsumed();
  return { nextSeq, events, segments: segments.length };
}

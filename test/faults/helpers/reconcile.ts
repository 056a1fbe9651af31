/**
 * Reconciliation of event ids from input to output: every expected id must arrive (none lost), duplicates are
 * counted and must stay within the case's bound, and nothing arrives that was never sent. Every case prints one
 * line from here, so a run's log shows each fault's numbers side by side.
 */
import { expect } from 'vitest';

export interface Reconciled {
  events: number;
  delivered: number;
  lost: string[];
  duplicates: number;
  unexpected: string[];
}

/** Ids `tx-<from>` … `tx-<from+count-1>`, the ids test/helpers/pipeline.ts writeSpoolFile puts in its lines. */
export function txIds(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `tx-${from + i}`);
}

/** The transactionId of each JSON line; torn or foreign lines (an in-use file while its writer runs) are skipped. */
export function idsOfLines(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    try {
      const id = (JSON.parse(line) as { transactionId?: unknown }).transactionId;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  });
}

export function tally(ids: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** Compares what arrived with what was sent and prints the case's reconciliation line. */
export function reconcile(label: string, expected: readonly string[], counts: ReadonlyMap<string, number>, bound: number, extra = ''): Reconciled {
  const want = new Set(expected);
  const lost = expected.filter((id) => !counts.has(id));
  let duplicates = 0;
  let delivered = 0;
  const unexpected: string[] = [];
  for (const [id, n] of counts) {
    delivered += n;
    duplicates += n - 1;
    if (!want.has(id)) unexpected.push(id);
  }
  console.log(`[faults] ${label}: events ${expected.length}, delivered ${delivered}, lost ${lost.length}, duplicates ${duplicates} (bound ${bound})${extra ? `; ${extra}` : ''}`);
  return { events: expected.length, delivered, lost, duplicates, unexpected };
}

/** reconcile, then the assertions every case shares: nothing lost, nothing foreign, duplicates within the bound. */
export function expectReconciled(label: string, expected: readonly string[], counts: ReadonlyMap<string, number>, bound: number, extra = ''): Reconciled {
  const r = reconcile(label, expected, counts, bound, extra);
  expect(r.lost.slice(0, 20), `${r.lost.length} ids lost`).toEqual([]);
  expect(r.unexpected.slice(0, 20), 'ids that were never sent').toEqual([]);
  expect(r.duplicates).toBeLessThanOrEqual(bound);
  return r;
}

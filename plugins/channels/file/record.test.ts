import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/event.ts';
import { decodePut, decodeTake, encodePut, encodeTake, HEADER_SIZE, PUT, putSummary, scanSegment, TAKE, type Damage, type ScannedRecord } from './record.ts';
import { consumedFlags, mergeRanges } from './recovery.ts';

const arbEvent = fc.record({
  headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
  body: fc.oneof(fc.string({ maxLength: 200, unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 })),
  t: fc.integer({ min: 0, max: 2 ** 45 }),
});
const toEvent = (a: { headers: Record<string, string>; body: string | Uint8Array; t: number }) =>
  typeof a.body === 'string' ? Event.fromText(a.body, { ...a.headers }, a.t) : Event.fromBytes(a.body, { ...a.headers }, a.t);

function scan(buf: Buffer) {
  const records: ScannedRecord[] = [];
  const damage: Damage[] = [];
  const end = scanSegment(buf, (r) => records.push(r), (d) => damage.push(d));
  return { records, damage, end };
}

describe('WAL records', () => {
  it('round-trips any batch of events: headers, text or byte bodies, ingest time', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 30 }), fc.integer({ min: 0, max: 2 ** 40 }), (raw, seq) => {
        const events = raw.map(toEvent);
        const rec = encodePut(seq, events);
        const { records, damage } = scan(rec);
        expect(damage).toEqual([]);
        expect(records).toHaveLength(1);
        expect(records[0]!.type).toBe(PUT);
        expect(putSummary(records[0]!.payload)).toEqual({ start: seq, count: events.length });
        const back = decodePut(records[0]!.payload);
        expect(back.firstSeq).toBe(seq);
        back.events.forEach((e, i) => {
          expect(e.headers).toEqual(events[i]!.headers);
          expect(e.ingestTime).toBe(events[i]!.ingestTime);
          expect(Buffer.from(e.bytes).equals(Buffer.from(events[i]!.bytes))).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips TAKE ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ start: fc.integer({ min: 0, max: 2 ** 45 }), count: fc.integer({ min: 0, max: 2 ** 31 }) }), { maxLength: 50 }), (ranges) => {
        const { records } = scan(encodeTake(ranges));
        expect(records[0]!.type).toBe(TAKE);
        expect(decodeTake(records[0]!.payload)).toEqual(ranges);
      }),
    );
  });

  it('after a truncation at any byte, replay yields exactly the records wholly before the cut and reports the torn tail', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbEvent, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), (batches, where) => {
        let seq = 0;
        const recs = batches.map((b) => {
          const r = encodePut(seq, b.map(toEvent));
          seq += b.length;
          return r;
        });
        const full = Buffer.concat(recs);
        const cut = Math.floor(where * full.length);
        const { records, damage, end } = scan(full.subarray(0, cut));
        let whole = 0;
        let bytes = 0;
        for (const r of recs) {
          if (bytes + r.length > cut) break;
          bytes += r.length;
          whole++;
        }
        expect(records).toHaveLength(whole);
        expect(end).toBe(bytes);
        expect(damage.length).toBe(cut > bytes ? 1 : 0);
        if (damage.length) expect(damage[0]!.reason).toBe('torn-tail');
      }),
      { numRuns: 300 },
    );
  });

  it('a flipped bit anywhere never yields a wrong record: the damaged one is skipped, the others are intact', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbEvent, { minLength: 1, maxLength: 4 }), { minLength: 3, maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 7 }), (batches, where, bit) => {
        const recs = batches.map((b, i) => encodePut(i * 100, b.map(toEvent)));
        const full = Buffer.concat(recs);
        const at = Math.min(full.length - 1, Math.floor(where * full.length));
        full[at] = full[at]! ^ (1 << bit);
        const { records } = scan(full);
        for (const r of records) {
          const i = putSummary(r.payload).start / 100;
          expect(Buffer.from(r.payload).equals(recs[i]!.subarray(HEADER_SIZE))).toBe(true);
        }
        expect(records.length).toBeGreaterThanOrEqual(recs.length - 2);
      }),
      { numRuns: 300 },
    );
  });

  it('merges consumed ranges and flags exactly the covered indexes', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ start: fc.integer({ min: 0, max: 200 }), count: fc.integer({ min: 0, max: 30 }) }), { maxLength: 20 }), fc.integer({ min: 0, max: 220 }), fc.integer({ min: 1, max: 50 }), (ranges, start, count) => {
        const merged = mergeRanges(ranges.map((r) => ({ ...r })));
        const { flags, consumed } = consumedFlags(merged, start, count);
        let expected = 0;
        for (let i = 0; i < count; i++) {
          const covered = ranges.some((r) => start + i >= r.start && start + i < r.start + r.count);
          expect(Boolean(flags?.[i])).toBe(covered);
          if (covered) expected++;
        }
        expect(consumed).toBe(expected);
      }),
    );
  });
});

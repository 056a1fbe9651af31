import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/event.ts';
import { crc32 } from 'node:zlib';
import { decodePut, decodeTake, encodePut, encodeTake, HEADER_SIZE, MAGIC, payloadProblem, PUT, putSummary, readPutRecord, RecordError, scanSegment, TAKE, type Damage, type ScannedRecord } from './record.ts';
import { consumedFlags, mergeRanges } from './recovery.ts';

const arbEvent = fc.record({
  headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
  body: fc.oneof(fc.string({ maxLength: 200, unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 })),
  t: fc.integer({ min: 0, max: 2 ** 45 }),
});
const toEvent = (a: { headers: Record<string, string>; body: string | Uint8Array; t: number }) =>
  typeof a.body === 'string' ? Event.fromText(a.body, { ...a.headers }, a.t) : Event.fromBytes(a.body, { ...a.headers }, a.t);

/** A record with valid checksums around any payload: what a writer bug, or bytes that happen to checksum, look like. */
function frame(type: number, payload: Uint8Array): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE + payload.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt8(type, 4);
  buf.writeUInt32LE(payload.length, 8);
  buf.set(payload, HEADER_SIZE);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER_SIZE)), 12);
  buf.writeUInt32LE(crc32(buf.subarray(0, 16)), 16);
  return buf;
}

/** Decodes a scanned record the way recovery and takes do. */
function decodeRecord(r: ScannedRecord): unknown {
  if (r.type === PUT) return [putSummary(r.payload), decodePut(r.payload)];
  if (r.type === TAKE) return decodeTake(r.payload);
  return undefined;
}

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

  it('any bytes at all (records, garbage, checksummed garbage, cut and flipped): the scan never throws; what it returns decodes or is refused cleanly', () => {
    const part = fc.oneof(
      fc.array(arbEvent, { minLength: 1, maxLength: 4 }).map((b) => encodePut(0, b.map(toEvent))),
      fc.array(fc.record({ start: fc.nat(), count: fc.nat() }), { maxLength: 4 }).map(encodeTake),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(PUT, TAKE, 7), fc.uint8Array({ maxLength: 80 })).map(([t, p]) => frame(t, p)),
      // Checksummed PUT payloads that are nearly right: a real one with a few bytes changed before framing.
      fc.tuple(fc.array(arbEvent, { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
        const p = Buffer.from(encodePut(5, b.map(toEvent)).subarray(HEADER_SIZE));
        p[at % p.length] = v;
        return frame(PUT, p);
      }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), (parts, cut, flip, bit) => {
        const full = Buffer.concat(parts);
        if (full.length > 0 && flip % 3 === 0) full[flip % full.length] ^= 1 << bit;
        const buf = cut % 4 === 0 ? full.subarray(0, cut % (full.length + 1)) : full;
        const { records, end } = scan(buf);
        expect(end).toBeLessThanOrEqual(buf.length);
        for (const r of records) {
          // Recovery reads summaries and TAKE ranges without a net: those never throw for a scanned record.
          if (r.type === PUT) expect(() => putSummary(r.payload)).not.toThrow();
          if (r.type === TAKE) expect(() => decodeTake(r.payload)).not.toThrow();
          // Event headers are JSON only to the decoder; a take skips the record when they are not.
          try {
            decodeRecord(r);
          } catch (error) {
            expect(error).toBeInstanceOf(RecordError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('decoding any payload either yields a record or throws a RecordError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const payload = Buffer.from(bytes);
        for (const decode of [decodePut, decodeTake, (p: Buffer) => readPutRecord(frame(PUT, p)), readPutRecord]) {
          try {
            decode(payload);
          } catch (error) {
            expect(error).toBeInstanceOf(RecordError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reading a PUT record back refuses any single flipped bit, and returns the events of an intact one exactly', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (raw, at, bit) => {
        const rec = encodePut(7, raw.map(toEvent));
        expect(readPutRecord(rec).events.map((e) => Buffer.from(e.bytes).toString('hex'))).toEqual(raw.map((r) => Buffer.from(toEvent(r).bytes).toString('hex')));
        const damaged = Buffer.from(rec);
        damaged[at % damaged.length] ^= 1 << bit;
        expect(() => readPutRecord(damaged)).toThrow(RecordError);
      }),
      { numRuns: 500 },
    );
  });

  it('a checksummed payload that is not a record is reported as malformed and skipped; the records around it are kept', () => {
    const good = [encodePut(0, [Event.fromText('a')]), encodePut(1, [Event.fromText('b')])];
    const wrongCount = Buffer.from(good[0]!.subarray(HEADER_SIZE));
    wrongCount.writeUInt32LE(2, 8);
    const badHeaders = encodePut(9, [Event.fromText('x', { k: 'v' })]).subarray(HEADER_SIZE);
    const notJson = Buffer.from(badHeaders);
    notJson.write('x', 24); // the first byte of the headers JSON
    const nanSeq = Buffer.from(good[1]!.subarray(HEADER_SIZE));
    nanSeq.writeDoubleLE(Number.NaN, 0);
    for (const bad of [frame(PUT, Buffer.alloc(3)), frame(PUT, wrongCount), frame(TAKE, Buffer.alloc(7)), frame(PUT, nanSeq)]) {
      const { records, damage } = scan(Buffer.concat([good[0]!, bad, good[1]!]));
      expect(records.map((r) => putSummary(r.payload).start)).toEqual([0, 1]);
      expect(damage).toEqual([{ offset: good[0]!.length, length: bad.length, reason: 'malformed-payload' }]);
    }
    // Headers are JSON only to the decoder, which refuses them cleanly.
    expect(payloadProblem(PUT, notJson)).toBeUndefined();
    expect(() => decodePut(notJson)).toThrow(RecordError);
  });
});

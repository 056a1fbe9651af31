/**
 * The write-ahead log's record format. Every record has a checksummed header and a checksummed payload, so a
 * torn tail is recognised and cut, and a damaged record in the middle is skipped without losing what follows:
 * the header carries the payload length (to skip exactly a record whose payload is damaged) and the magic number
 * lets the scanner find the next record when a header itself is damaged.
 *
 *   header (20 bytes): magic u32 · type u8 · flags u8 · reserved u16 · payloadLen u32 · payloadCrc u32 · headerCrc u32
 *   PUT payload:  firstSeq f64 · count u32 · count × (ingestTime f64 · headersLen u32 · headers JSON · bodyKind u8 · bodyLen u32 · body)
 *   TAKE payload: n u32 · n × (startSeq f64 · count u32)
 */
import { crc32 } from 'node:zlib';
import { Event } from '../../../agent/index.ts';

export const MAGIC = 0x46544131; // "FTA1"
export const HEADER_SIZE = 20;
export const PUT = 1;
export const TAKE = 2;
const TEXT = 0;
const BYTES = 1;

export interface Range {
  start: number;
  count: number;
}

/** A record that cannot be read back as it was written: its bytes changed, or they never were a record. */
export class RecordError extends Error {
  constructor(readonly reason: string) {
    super(`damaged write-ahead log record (${reason})`);
    this.name = 'RecordError';
  }
}

function header(buf: Buffer, type: number, payloadLen: number): void {
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt8(type, 4);
  buf.writeUInt8(0, 5);
  buf.writeUInt16LE(0, 6);
  buf.writeUInt32LE(payloadLen, 8);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER_SIZE, HEADER_SIZE + payloadLen)), 12);
  buf.writeUInt32LE(crc32(buf.subarray(0, 16)), 16);
}

/** One PUT record for a whole committed batch: sizes are computed first so the record is built in one buffer. */
export function encodePut(firstSeq: number, events: readonly Event[]): Buffer {
  const n = events.length;
  const heads: (string | undefined)[] = new Array(n);
  const bodies: (string | Uint8Array)[] = new Array(n);
  let size = HEADER_SIZE + 12;
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    let h: string | undefined;
    for (const _ in e.headers) {
      h = JSON.stringify(e.headers);
      break;
    }
    heads[i] = h;
    const raw = e.hasData ? e.text : (e as unknown as { raw: string | Uint8Array | undefined }).raw ?? e.text;
    bodies[i] = raw;
    size += 17 + (h ? Buffer.byteLength(h) : 0) + (typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength);
  }
  const buf = Buffer.allocUnsafe(size);
  let o = HEADER_SIZE;
  o = buf.writeDoubleLE(firstSeq, o);
  o = buf.writeUInt32LE(n, o);
  for (let i = 0; i < n; i++) {
    o = buf.writeDoubleLE(events[i]!.ingestTime, o);
    const h = heads[i];
    const hl = h ? buf.write(h, o + 4) : 0;
    buf.writeUInt32LE(hl, o);
    o += 4 + hl;
    const b = bodies[i]!;
    if (typeof b === 'string') {
      buf.writeUInt8(TEXT, o);
      const bl = buf.write(b, o + 5);
      buf.writeUInt32LE(bl, o + 1);
      o += 5 + bl;
    } else {
      buf.writeUInt8(BYTES, o);
      buf.writeUInt32LE(b.byteLength, o + 1);
      buf.set(b, o + 5);
      o += 5 + b.byteLength;
    }
  }
  header(buf, PUT, o - HEADER_SIZE);
  return o === size ? buf : buf.subarray(0, o);
}

export function encodeTake(ranges: readonly Range[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE + 4 + ranges.length * 12);
  let o = buf.writeUInt32LE(ranges.length, HEADER_SIZE);
  for (const r of ranges) {
    o = buf.writeDoubleLE(r.start, o);
    o = buf.writeUInt32LE(r.count, o);
  }
  header(buf, TAKE, o - HEADER_SIZE);
  return buf;
}

/**
 * Why a payload that passed its checksum still cannot be a record of its type (a writer bug, or bytes that only
 * happen to checksum), or undefined when its structure holds: every length inside it stays within it and they add
 * up to exactly its size. Walks the event boundaries without decoding anything.
 */
export function payloadProblem(type: number, p: Buffer): string | undefined {
  if (type === TAKE) {
    if (p.length < 4 || p.length !== 4 + 12 * p.readUInt32LE(0)) return 'take-length';
    for (let o = 4; o < p.length; o += 12) if (!validSeq(p.readDoubleLE(o))) return 'take-sequence';
    return undefined;
  }
  if (type !== PUT) return undefined;
  if (p.length < 12) return 'put-length';
  if (!validSeq(p.readDoubleLE(0))) return 'put-sequence';
  const n = p.readUInt32LE(8);
  let o = 12;
  for (let i = 0; i < n; i++) {
    if (o + 12 > p.length) return 'put-length';
    o += 12 + p.readUInt32LE(o + 8);
    if (o + 5 > p.length) return 'put-length';
    if (p[o] !== TEXT && p[o] !== BYTES) return 'put-body-kind';
    o += 5 + p.readUInt32LE(o + 1);
  }
  return o === p.length ? undefined : 'put-length';
}

const validSeq = (seq: number) => Number.isSafeInteger(seq) && seq >= 0;

/** Events of a PUT payload (without its header). Throws a RecordError, and only that, when it is not one. */
export function decodePut(payload: Buffer): { firstSeq: number; events: Event[] } {
  const problem = payloadProblem(PUT, payload);
  if (problem) throw new RecordError(problem);
  const firstSeq = payload.readDoubleLE(0);
  const n = payload.readUInt32LE(8);
  const events: Event[] = new Array(n);
  let o = 12;
  for (let i = 0; i < n; i++) {
    const t = payload.readDoubleLE(o);
    const hl = payload.readUInt32LE(o + 8);
    o += 12;
    const headers = hl ? parseHeaders(payload.toString('utf8', o, o + hl)) : {};
    o += hl;
    const kind = payload.readUInt8(o);
    const bl = payload.readUInt32LE(o + 1);
    o += 5;
    events[i] = kind === BYTES ? Event.fromBytes(Buffer.from(payload.subarray(o, o + bl)), headers, t) : Event.fromText(payload.toString('utf8', o, o + bl), headers, t);
    o += bl;
  }
  return { firstSeq, events };
}

function parseHeaders(json: string): Record<string, string> {
  let headers: unknown;
  try {
    headers = JSON.parse(json);
  } catch {
    throw new RecordError('put-headers');
  }
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) throw new RecordError('put-headers');
  return headers as Record<string, string>;
}

/** The first sequence number and the event count of a PUT payload that scanSegment returned, without decoding it. */
export function putSummary(payload: Buffer): Range {
  return { start: payload.readDoubleLE(0), count: payload.readUInt32LE(8) };
}

/** The ranges of a TAKE payload. Throws a RecordError, and only that, when it is not one. */
export function decodeTake(payload: Buffer): Range[] {
  const problem = payloadProblem(TAKE, payload);
  if (problem) throw new RecordError(problem);
  const n = payload.readUInt32LE(0);
  const out: Range[] = [];
  for (let i = 0, o = 4; i < n; i++, o += 12) out.push({ start: payload.readDoubleLE(o), count: payload.readUInt32LE(o + 8) });
  return out;
}

export interface ScannedRecord {
  type: number;
  offset: number;
  length: number;
  payload: Buffer;
}

export interface Damage {
  offset: number;
  /** Bytes skipped. */
  length: number;
  reason: 'payload-checksum' | 'header-checksum' | 'torn-tail' | 'malformed-payload';
}

function headerValid(buf: Buffer, at: number): boolean {
  return at + HEADER_SIZE <= buf.length && buf.readUInt32LE(at) === MAGIC && buf.readUInt32LE(at + 16) === crc32(buf.subarray(at, at + 16));
}

/**
 * Walks the records of one segment. Valid records go to `onRecord`; damage is reported with its position. Returns
 * the end of the last valid record, which is where a torn tail is cut.
 */
export function scanSegment(buf: Buffer, onRecord: (r: ScannedRecord) => void, onDamage: (d: Damage) => void): number {
  let at = 0;
  let validEnd = 0;
  while (at < buf.length) {
    if (!headerValid(buf, at)) {
      const next = findNextHeader(buf, at + 1);
      if (next < 0) {
        onDamage({ offset: at, length: buf.length - at, reason: 'torn-tail' });
        return validEnd;
      }
      onDamage({ offset: at, length: next - at, reason: 'header-checksum' });
      at = next;
      continue;
    }
    const len = buf.readUInt32LE(at + 8);
    const end = at + HEADER_SIZE + len;
    if (end > buf.length) {
      onDamage({ offset: at, length: buf.length - at, reason: 'torn-tail' });
      return validEnd;
    }
    const payload = buf.subarray(at + HEADER_SIZE, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 12)) {
      // A valid header vouches for the length: skip exactly this record. At the very end it is a torn write.
      if (end === buf.length && findNextHeader(buf, at + 1) < 0) {
        onDamage({ offset: at, length: end - at, reason: 'torn-tail' });
        return validEnd;
      }
      onDamage({ offset: at, length: end - at, reason: 'payload-checksum' });
    } else if (payloadProblem(buf.readUInt8(at + 4), payload) !== undefined) {
      // Checksummed but not a record: what decodes it must never see it.
      onDamage({ offset: at, length: end - at, reason: 'malformed-payload' });
    } else {
      onRecord({ type: buf.readUInt8(at + 4), offset: at, length: end - at, payload });
    }
    at = end;
    validEnd = end;
  }
  return validEnd;
}

/**
 * The events of the PUT record at the start of `buf` (header and payload, as read back from a segment), after
 * checking everything the scan checked: magic, both checksums, the length and the structure. The bytes on disk may
 * have changed since the channel's recovery vouched for them; a damaged record is refused, never decoded.
 */
export function readPutRecord(buf: Buffer): { firstSeq: number; events: Event[] } {
  if (!headerValid(buf, 0)) throw new RecordError('header-checksum');
  if (buf.readUInt8(4) !== PUT) throw new RecordError('not-a-put');
  const len = buf.readUInt32LE(8);
  if (HEADER_SIZE + len !== buf.length) throw new RecordError('length');
  const payload = buf.subarray(HEADER_SIZE);
  if (crc32(payload) !== buf.readUInt32LE(12)) throw new RecordError('payload-checksum');
  return decodePut(payload);
}

function findNextHeader(buf: Buffer, from: number): number {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(MAGIC);
  for (let i = buf.indexOf(magic, from); i >= 0; i = buf.indexOf(magic, i + 1)) if (headerValid(buf, i)) return i;
  return -1;
}

/**
 * The kafkajs the client loads carries patches/kafkajs+2.2.4.patch (applied by `npm install`'s postinstall): a
 * linear per-partition grouping, varints written in place, unzeroed encoder buffers and a slicing-by-8 CRC-32C.
 * These check that the patch is applied and that the patched code still encodes exactly what the protocol says.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const kafkajsFile = (path: string) => require.resolve(`kafkajs/src/${path}`);
const crc32C = require(kafkajsFile('protocol/recordBatch/crc32C/crc32C.js')) as (b: Buffer) => number;
const Encoder = require(kafkajsFile('protocol/encoder.js'));
const groupMessagesPerPartition = require(kafkajsFile('producer/groupMessagesPerPartition.js')) as (o: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { n: number }[];
  partitioner: (o: { message: { n: number } }) => number;
}) => Record<string, { n: number }[]>;

/** CRC-32C bit by bit, straight from the polynomial (reflected 0x82F63B78). */
function referenceCrc32C(b: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of b) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Zigzag LEB128 of a 64-bit signed value, as Kafka's varlong. */
function referenceVarLong(value: number): Buffer {
  let z = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

describe('patched kafkajs', () => {
  it('is the patched copy (npm install runs patch-package)', () => {
    for (const f of ['producer/groupMessagesPerPartition.js', 'protocol/encoder.js', 'protocol/recordBatch/crc32C/crc32C.js']) {
      expect(readFileSync(kafkajsFile(f), 'utf8'), f).toContain('fintrans-agent patch');
    }
  });

  it('computes CRC-32C like the polynomial does, for every tail length and a large buffer', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(0))).toBe(0);
    for (let n = 1; n < 80; n++) {
      const b = randomBytes(n);
      expect(crc32C(b), `length ${n}`).toBe(referenceCrc32C(b));
    }
    const big = randomBytes(100_003);
    expect(crc32C(big)).toBe(referenceCrc32C(big));
    expect(crc32C(big.subarray(5, 50_000))).toBe(referenceCrc32C(big.subarray(5, 50_000)));
  });

  it('writes varints and varlongs byte for byte as the protocol does, and sizes them right', () => {
    const values = [0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, 8192, 2 ** 20, -(2 ** 20), 2 ** 30 - 1, -(2 ** 30), 2 ** 30, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 45), 1_700_000_000_000];
    for (const v of values) {
      const expected = referenceVarLong(v);
      expect(new Encoder(1).writeVarLong(v).buffer.toString('hex'), `varlong ${v}`).toBe(expected.toString('hex'));
      expect(Encoder.sizeOfVarLong(v), `size ${v}`).toBe(expected.length);
      if (v >= -(2 ** 31) && v < 2 ** 31) expect(new Encoder(1).writeVarInt(v).buffer.toString('hex'), `varint ${v}`).toBe(expected.toString('hex'));
    }
    // Several writes grow an encoder from one byte; what it returns is only what was written.
    const e = new Encoder(1).writeVarInt(300).writeVarIntBytes('héllo').writeVarIntBytes(null).writeVarLong(-2);
    expect(e.buffer.toString('hex')).toBe(`d804${'0c'}${Buffer.from('héllo').toString('hex')}0103`);
  });

  it('groups messages per partition in order, each once', () => {
    const messages = Array.from({ length: 10 }, (_, n) => ({ n }));
    const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}, {}, {}], messages, partitioner: ({ message }) => (message.n * 7) % 3 });
    expect(grouped).toEqual({ 0: [0, 3, 6, 9].map((n) => ({ n })), 1: [1, 4, 7].map((n) => ({ n })), 2: [2, 5, 8].map((n) => ({ n })) });
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 })).toEqual({});
  });
});

/**
 * Compression codecs for kafkajs, which ships only gzip: snappy (kafkajs-snappy, pure JavaScript), LZ4 frames
 * (lz4js, pure JavaScript) and zstd (Node's own zlib). Registered once, for producers and consumers alike.
 */
import { createRequire } from 'node:module';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';

const require = createRequire(import.meta.url);
const zc = promisify(zstdCompress);
const zd = promisify(zstdDecompress);
let registered = false;

interface Encoder {
  buffer: Buffer;
}

export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const lz4 = require('lz4js') as Lz4js;
  const xxh32 = (require('lz4js/xxh32.js') as { hash(seed: number, b: Uint8Array, i: number, n: number): number }).hash;
  CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => lz4Frame(lz4, xxh32, encoder.buffer),
    decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: Encoder) => zc(encoder.buffer),
    decompress: async (buffer: Buffer) => zd(buffer),
  });
}

interface Lz4js {
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  compressBound(n: number): number;
  decompress(b: Uint8Array): Uint8Array;
}

const BLOCK = 4 << 20;

/**
 * An LZ4 frame the way Kafka reads it. lz4js's own frames leave the block-independence flag unset, which the broker
 * refuses ("dependent block stream is unsupported"); here every block gets a fresh hash table, so the blocks really
 * are independent and the flag is honest.
 */
function lz4Frame(lz4: Lz4js, xxh32: (seed: number, b: Uint8Array, i: number, n: number) => number, src: Buffer): Buffer {
  const out = Buffer.alloc(7 + lz4.compressBound(src.length) + 4 * (Math.ceil(src.length / BLOCK) + 2));
  out.writeUInt32LE(0x184d2204, 0);
  out[4] = 0x60; // version 01, block independence
  out[5] = 0x70; // 4 MiB blocks
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  let o = 7;
  const block = new Uint8Array(lz4.compressBound(BLOCK));
  for (let s = 0; s < src.length; s += BLOCK) {
    const n = Math.min(BLOCK, src.length - s);
    const size = lz4.compressBlock(src, block, s, n, new Uint32Array(1 << 16));
    if (size === 0 || size >= n) {
      out.writeUInt32LE((0x80000000 | n) >>> 0, o);
      src.copy(out, o + 4, s, s + n);
      o += 4 + n;
    } else {
      out.writeUInt32LE(size, o);
      out.set(block.subarray(0, size), o + 4);
      o += 4 + size;
    }
  }
  out.writeUInt32LE(0, o);
  return out.subarray(0, o + 4);
}

export const COMPRESSION = { none: kafkajs.CompressionTypes.None, gzip: kafkajs.CompressionTypes.GZIP, snappy: kafkajs.CompressionTypes.Snappy, lz4: kafkajs.CompressionTypes.LZ4, zstd: kafkajs.CompressionTypes.ZSTD } as const;

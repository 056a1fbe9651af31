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
  const lz4 = require('lz4js') as { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array };
  CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => Buffer.from(lz4.compress(encoder.buffer)),
    decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: Encoder) => zc(encoder.buffer),
    decompress: async (buffer: Buffer) => zd(buffer),
  });
}

export const COMPRESSION = { none: kafkajs.CompressionTypes.None, gzip: kafkajs.CompressionTypes.GZIP, snappy: kafkajs.CompressionTypes.Snappy, lz4: kafkajs.CompressionTypes.LZ4, zstd: kafkajs.CompressionTypes.ZSTD } as const;

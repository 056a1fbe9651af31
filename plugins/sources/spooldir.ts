/**
 * spooldir: ingests complete files dropped into a directory, line by line, each file exactly once per
 * acknowledgement (at-least-once across crashes: at most the last unacknowledged batch is read again), then renames
 * it with a suffix or deletes it. Unlike Flume's, it waits for files to settle before reading them and quarantines
 * files that break the spool rules instead of stopping.
 */
import { resolve } from 'node:path';
import { definePlugin, durationSchema, toMillis, type JsonSchema } from '../../agent/index.ts';
import { isUtf8Charset } from './spooldir/decoder.ts';
import type { ConsumeOrder } from './spooldir/scanner.ts';
import { SpoolDirSource, type SpoolOptions } from './spooldir/source.ts';

export interface SpoolDirConfig {
  spoolDir: string;
  fileSuffix: string;
  deletePolicy: 'never' | 'immediate';
  fileHeader: boolean;
  fileHeaderKey: string;
  basenameHeader: boolean;
  basenameHeaderKey: string;
  includePattern: string;
  ignorePattern: string;
  trackerDir: string;
  consumeOrder: ConsumeOrder;
  pollDelay: number | string;
  recursiveDirectorySearch: boolean;
  batchSize: number;
  inputCharset: string;
  maxLineLength: number;
  format: 'json' | 'text';
  fileStableMs: number | string;
}

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['spoolDir'],
  properties: {
    spoolDir: { type: 'string', minLength: 1, description: 'Directory to ingest files from. A relative path resolves against the configuration file\'s directory.' },
    fileSuffix: { type: 'string', minLength: 1, default: '.COMPLETED', description: 'Appended to a file\'s name once all its lines were acknowledged (deletePolicy never). Files ending with it are never read.' },
    deletePolicy: { enum: ['never', 'immediate'], default: 'never', description: '"never" renames a finished file with fileSuffix; "immediate" deletes it once all its lines were acknowledged.' },
    fileHeader: { type: 'boolean', default: false, description: 'Add the file\'s absolute path to each event as header fileHeaderKey.' },
    fileHeaderKey: { type: 'string', minLength: 1, default: 'file', description: 'Header name for the absolute path when fileHeader is true.' },
    basenameHeader: { type: 'boolean', default: false, description: 'Add the file\'s name (without directories) to each event as header basenameHeaderKey.' },
    basenameHeaderKey: { type: 'string', minLength: 1, default: 'basename', description: 'Header name for the file name when basenameHeader is true.' },
    includePattern: { type: 'string', format: 'regex', default: '^.*$', description: 'Regular expression (JavaScript syntax) a file name must match to be read.' },
    ignorePattern: { type: 'string', format: 'regex', default: '^$', description: 'Regular expression (JavaScript syntax) of file names to skip; wins over includePattern. Hidden files (starting with ".") are always skipped.' },
    trackerDir: { type: 'string', minLength: 1, default: '.flumespool', description: 'Directory for the durable read position, the lock and quarantine/. A relative path resolves inside spoolDir; keep it on the same file system so quarantined files can be moved there.' },
    consumeOrder: { enum: ['oldest', 'youngest', 'random'], default: 'oldest', description: 'Which ready file to read next: oldest or youngest by modification time (ties by name), or random.' },
    pollDelay: durationSchema('Delay between directory scans. The scan is the safety net: file system events wake the source earlier.', 'ms', 500),
    recursiveDirectorySearch: { type: 'boolean', default: false, description: 'Also read files in subdirectories (hidden ones and trackerDir excepted).' },
    batchSize: { type: 'integer', minimum: 1, default: 100, description: 'Events per batch handed to the channels; the read position advances once per acknowledged batch.' },
    inputCharset: { type: 'string', minLength: 1, default: 'UTF-8', description: 'Encoding of the files: a WHATWG label such as "UTF-8", "latin1" or "ascii". Lines that do not decode go to dead letters (reason invalid-encoding).' },
    maxLineLength: { type: 'integer', minimum: 1, default: 1048576, description: 'Longest line in bytes. Longer lines are never split: they go to dead letters (reason line-too-long) with their first 1024 bytes as the body.' },
    format: { enum: ['json', 'text'], default: 'json', description: '"json": each line must be a JSON object (bad lines go to dead letters as malformed-json or not-an-object); "text": each line is a text event.' },
    fileStableMs: durationSchema('A file is read only once its size and modification time have not changed for this long, so files still being written are left alone. 0 reads files as soon as they appear.', 'ms', 1000),
  },
};

export default definePlugin<'source', SpoolDirConfig>({
  kind: 'source',
  type: 'spooldir',
  description: 'Reads complete files dropped into a directory, line by line (JSON or text), then renames or deletes them; resumes from a durable position and quarantines files that break the spool rules.',
  schema,
  lint(config) {
    // Found here rather than at create, so `validate` reports it with its line instead of the source failing at run.
    try {
      isUtf8Charset(config.inputCharset);
      return [];
    } catch {
      return [{ key: 'inputCharset', message: `"${config.inputCharset}" is not an encoding this runtime can decode: use a WHATWG label such as "UTF-8", "latin1" or "ascii".` }];
    }
  },
  create(config, ctx) {
    const spoolDir = resolve(ctx.configDir, config.spoolDir);
    let utf8: boolean;
    try {
      utf8 = isUtf8Charset(config.inputCharset);
    } catch {
      throw new Error(`spooldir source "${ctx.name}": inputCharset "${config.inputCharset}" is not an encoding this runtime can decode. Use a WHATWG label such as "UTF-8", "latin1" or "ascii".`);
    }
    const options: SpoolOptions = {
      spoolDir,
      trackerDir: resolve(spoolDir, config.trackerDir),
      fileSuffix: config.fileSuffix,
      deletePolicy: config.deletePolicy,
      fileHeaderKey: config.fileHeader ? config.fileHeaderKey : undefined,
      basenameHeaderKey: config.basenameHeader ? config.basenameHeaderKey : undefined,
      include: compile(config.includePattern, 'includePattern', ctx.name),
      ignore: compile(config.ignorePattern, 'ignorePattern', ctx.name),
      consumeOrder: config.consumeOrder,
      pollDelayMs: Math.max(1, toMillis(config.pollDelay, 'ms')),
      recursive: config.recursiveDirectorySearch,
      batchSize: config.batchSize,
      charset: config.inputCharset,
      utf8,
      maxLineLength: config.maxLineLength,
      format: config.format,
      fileStableMs: toMillis(config.fileStableMs, 'ms'),
    };
    return new SpoolDirSource(options, ctx);
  },
});

function compile(pattern: string, key: string, name: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new Error(`spooldir source "${name}": ${key} ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message}).`);
  }
}

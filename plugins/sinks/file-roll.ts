/**
 * The file_roll sink: appends events to local files, one line each, and rolls to a new file by time and by size.
 * A file is written under a hidden temporary name and renamed when rolled, so consumers only ever see complete
 * files; temporaries a crash left behind are finalized on the next start. Unlike Flume's, it can fsync each
 * batch and roll by size. One sink per directory and prefix: a second writer's temporaries would be "recovered".
 */
import { definePlugin, durationSchema, type Sink } from '../../agent/index.ts';
import { FORMATS } from './file-roll/format.ts';
import { FileRollSink, type FileRollConfig } from './file-roll/sink.ts';

export type { FileRollConfig };

const batchSize = {
  description: 'Events the runner takes from the channel per transaction; each batch is appended with one write.',
  type: 'integer',
  minimum: 1,
  default: 100,
};

export default definePlugin<'sink', FileRollConfig>({
  kind: 'sink',
  type: 'file_roll',
  description: 'Appends events to local files, one per line, rolled by time and size; a file appears under its final name only when complete.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['directory'],
    properties: {
      directory: {
        description: 'Directory for the files, relative to the configuration file; created when missing.',
        type: 'string',
        minLength: 1,
      },
      rollInterval: durationSchema('Age at which a file is closed and a new one begun; 0 never rolls by time (one file until stop).', 's', 30),
      rollSize: {
        description: 'Size in bytes at which a file is rolled, checked after each batch (a batch is never split, so a file may exceed it by less than one batch); 0 turns size rolls off.',
        type: 'integer',
        minimum: 0,
        default: 0,
      },
      prefix: {
        description: 'Start of every file name: files are named <prefix><startMillis>-<n>.<extension>, where startMillis is when the file was opened.',
        type: 'string',
        pattern: '^[^/\\\\]*$',
        default: 'events-',
      },
      extension: {
        description: 'File name extension, without the dot; "" for none. Default: "log" for format text, "jsonl" for the JSON formats.',
        type: 'string',
        pattern: '^[^/\\\\]*$',
      },
      format: {
        description:
          'Line format. json: the body as one line of JSON (bodies that are not JSON go to dead letters). text: the body text as is. ' +
          'json-with-headers: {"headers":{...},"body":...} with the body as JSON when it is JSON, else as a string.',
        type: 'string',
        enum: FORMATS,
        default: 'json',
      },
      fsync: {
        description: 'fsync each batch before acknowledging it, so acknowledged events survive a machine crash, not just an agent crash; costs latency per batch.',
        type: 'boolean',
        default: false,
      },
      batchSize,
    },
  },
  create(config, ctx): Sink {
    return new FileRollSink(config, ctx);
  },
});

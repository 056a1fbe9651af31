/**
 * The `hdfs` sink: Flume's HDFS sink over WebHDFS (keys without the `hdfs.` prefix). Events are appended as text
 * lines (DataStream) or gzip members (CompressedStream) to one in-use file per bucket directory, one request per
 * file per batch; the channel commits only after WebHDFS acknowledged. Files are renamed to their final name
 * when rolled or on stop, and in-use files a crash left behind are finalized on start. Unlike Flume's, an event
 * without a usable timestamp goes to dead letters instead of blocking the channel, and a failed append never
 * leaves duplicates once its file is cut back (see hdfs/finalizer.ts). One sink per path and filePrefix: another
 * writer's in-use files would be "recovered".
 */
import { definePlugin, durationSchema, type Sink } from '../../agent/index.ts';
import { PathTemplate } from './hdfs/path-escapes.ts';
import { HdfsSink, type HdfsSinkConfig } from './hdfs/sink.ts';
import { Zone } from '../shared/event-time.ts';
import { tlsProblems, tlsSchema } from '../shared/tls.ts';

export type { HdfsSinkConfig };

const NAME_KEYS = ['filePrefix', 'fileSuffix', 'inUsePrefix', 'inUseSuffix'] as const;
const NAMENODE_URL = /^https?:\/\/[^/?#]+(\/webhdfs\/v1)?\/?$/;

export default definePlugin<'sink', HdfsSinkConfig>({
  kind: 'sink',
  type: 'hdfs',
  description: "Writes events to HDFS files through WebHDFS in time-bucketed directories (Flume's HDFS sink); the channel commits only after HDFS acknowledged.",
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['namenodes', 'path'],
    properties: {
      namenodes: {
        description: 'WebHDFS base URLs of the NameNodes, e.g. ["http://nn1:9870", "http://nn2:9870"], or https://nn1:9871 for WebHDFS over TLS (swebhdfs, see tls); on a network error, 5xx, 429 or a standby answer the next one is tried.',
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
      },
      user: {
        description: 'HDFS user for the requests (WebHDFS user.name, simple authentication). Default: the HADOOP_USER_NAME environment variable, else the OS user running the agent, as the Hadoop client does.',
        type: 'string',
        minLength: 1,
      },
      path: {
        description:
          'Absolute HDFS directory of the files, with escapes: %Y %y %m %d %H %M %S (event time in timeZone), %s and %t (epoch seconds and ' +
          'milliseconds), %{header}, %[field] (JSON body field; dotted paths allowed) and %% for a literal %. An event whose time or value ' +
          'is missing goes to dead letters (reason missing-timestamp or invalid-path). Missing directories are created.',
        type: 'string',
        minLength: 1,
      },
      filePrefix: { description: 'Start of every file name; files are named <filePrefix>.<counter><fileSuffix>, the counter being the opening time in epoch milliseconds (unique per sink). No escapes.', type: 'string', minLength: 1, default: 'FlumeData' },
      fileSuffix: { description: 'End of every final file name, e.g. ".jsonl" (no dot is added). CompressedStream adds ".gz" after it, as Flume does.', type: 'string', default: '' },
      inUsePrefix: { description: 'Prepended to the name while the file is being written, e.g. "_" or "." so Hive, Spark and MapReduce skip it.', type: 'string', default: '' },
      inUseSuffix: { description: 'Appended to the name while the file is being written. inUsePrefix and inUseSuffix must not both be empty: they mark the files to finalize after a crash.', type: 'string', default: '.tmp' },
      rollInterval: durationSchema('Age at which a file is closed and renamed, measured from its creation; 0 never rolls by time. Files become visible only when rolled, so this bounds the delay before readers see data.', 's', 30),
      rollSize: {
        description: "Bytes written to a file (after compression) at which it is rolled, checked after each batch; 0 turns size rolls off. Default 128 MiB, one HDFS block: Flume's 1024 bytes makes thousands of tiny files, which HDFS handles badly (every file costs NameNode memory).",
        type: 'integer',
        minimum: 0,
        default: 134_217_728,
      },
      rollCount: { description: "Events written to a file at which it is rolled; 0 (default) turns count rolls off. Flume's default of 10 makes tiny files.", type: 'integer', minimum: 0, default: 0 },
      idleTimeout: durationSchema('A file that received nothing for this long is rolled; 0 never rolls for idleness.', 's', 0),
      batchSize: {
        description:
          'Events taken from the channel per transaction; each bucket file gets the batch\'s events in one WebHDFS request. Every append is a whole ' +
          'open-write-close on the DataNode (about 0.45 s measured), so one bucket takes about batchSize / 0.45 events per second. The default is 1000 (Flume: 100, about 220 events/s here); the channel\'s transactionCapacity must be at least this.',
        type: 'integer',
        minimum: 1,
        default: 1000,
      },
      fileType: {
        description: 'DataStream: each event body followed by "\\n". CompressedStream: the same, gzip-compressed, one gzip member per batch (a valid gzip stream that gunzip, zcat and Hadoop read whole). SequenceFile is not supported.',
        enum: ['DataStream', 'CompressedStream'],
        default: 'DataStream',
      },
      codeC: { description: 'Codec of CompressedStream; only gzip.', enum: ['gzip'], default: 'gzip' },
      round: { description: 'Round the event time down before the path escapes are applied, e.g. 10-minute buckets (on the wall clock of timeZone, as Flume).', type: 'boolean', default: false },
      roundValue: { description: 'Round down to a multiple of this many roundUnits within the next larger unit (at most 60 for second and minute, 24 for hour).', type: 'integer', minimum: 1, maximum: 60, default: 1 },
      roundUnit: { description: 'Unit of roundValue: second, minute or hour.', enum: ['second', 'minute', 'hour'], default: 'second' },
      timeZone: {
        description: 'Time zone of the time escapes: an IANA name such as "Europe/Paris", "UTC" (the default, so paths do not depend on the machine), or "local" for the agent machine\'s zone (Flume\'s default).',
        type: 'string',
        minLength: 1,
        default: 'UTC',
      },
      useLocalTimeStamp: { description: "Use the agent's clock at write time for the time escapes instead of the event's time.", type: 'boolean', default: false },
      timestampField: {
        description:
          'JSON body field holding the event time, e.g. transactionTime or transaction_date: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude, as a number or digit string) or ISO-8601 ' +
          '(without an offset: wall-clock time in timeZone). Events without the field fall back to the "timestamp" header (epoch milliseconds), as in Flume; events with neither, or an unparsable value, go to dead letters.',
        type: 'string',
        minLength: 1,
      },
      maxOpenFiles: { description: 'Most bucket files open at once; beyond it the least recently written one is rolled.', type: 'integer', minimum: 1, default: 5000 },
      callTimeout: durationSchema('Longest a WebHDFS request may stay without an answer before it fails (and the batch is retried).', 'ms', 30_000),
      tls: tlsSchema('NameNode and DataNode', 'TLS for https:// NameNodes (dfs.http.policy HTTPS_ONLY or HTTP_AND_HTTPS); applies to the NameNode and to the DataNodes it redirects writes and reads to, e.g. caFile: the CA of the cluster\'s certificates.'),
    },
  },
  lint(config) {
    const problems: { key?: string; message: string }[] = [];
    try {
      new Zone(config.timeZone);
    } catch {
      problems.push({ key: 'timeZone', message: `unknown time zone "${config.timeZone}"; use an IANA name such as "Europe/Paris", "UTC" or "local".` });
      return problems;
    }
    if (!config.path.startsWith('/')) problems.push({ key: 'path', message: `"${config.path}" is not absolute: start it with "/", e.g. /flume/%Y%m%d.` });
    try {
      new PathTemplate(config.path, config);
    } catch (error) {
      problems.push({ key: 'path', message: `${(error as Error).message}.` });
    }
    for (const url of config.namenodes) {
      if (!NAMENODE_URL.test(url)) problems.push({ key: 'namenodes', message: `"${url}" is not a NameNode HTTP address such as http://nn1:9870.` });
    }
    for (const key of NAME_KEYS) if (/[/%]/.test(config[key])) problems.push({ key, message: `"${config[key]}" may not contain "/" or "%" (file names take no escapes).` });
    if (config.inUsePrefix === '' && config.inUseSuffix === '') problems.push({ key: 'inUseSuffix', message: 'inUsePrefix and inUseSuffix are both empty: in-use files could not be told from finished ones.' });
    if (config.roundUnit === 'hour' && config.roundValue > 24) problems.push({ key: 'roundValue', message: 'roundValue must be at most 24 with roundUnit hour.' });
    for (const message of tlsProblems(config.tls)) problems.push({ key: 'tls', message });
    if (config.useLocalTimeStamp && config.timestampField) problems.push({ key: 'timestampField', message: 'timestampField has no effect with useLocalTimeStamp: true; remove one of them.' });
    return problems;
  },
  create(config, ctx): Sink {
    return new HdfsSink(config, ctx);
  },
});

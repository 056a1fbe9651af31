/**
 * Flume component types this project runs, and how each one's keys map. Units match without conversion except
 * where noted: pollDelay, batchDurationMillis and callTimeout are milliseconds on both sides; keep-alive,
 * rollInterval and idleTimeout are seconds on both sides. Where Flume's default decides how components fit together
 * (channel sizes, batch sizes, consumer group, body encoding), it is written out, so a Flume file behaves as in Flume.
 */
import { resolveHdfsPath } from './hadoop-conf.ts';
import { finishSecurity, kafkaClientRule, setAcks } from './kafka-keys.ts';
import { convert, isTrue, pos, type KeyRule, type TypeSpec } from './rules.ts';
import { leaf } from './yaml-out.ts';

const int: KeyRule = { as: 'int' };
const bool: KeyRule = { as: 'bool' };
const str: KeyRule = { as: 'str' };
/** A key whose only supported value is Flume's default. */
const onlyValue = (ok: string[], why: string): KeyRule => ({
  map: (p, _out, ctx) => {
    if (!ok.some((v) => v.toLowerCase() === p.value.trim().toLowerCase())) ctx.error(p, `${p.name} = ${p.value} is not supported: ${why}`);
  },
});

export const SOURCES: TypeSpec[] = [
  {
    target: 'spooldir',
    names: ['spooldir', 'org.apache.flume.source.SpoolDirectorySource'],
    keys: {
      spoolDir: str, fileSuffix: str, deletePolicy: { as: 'lower' }, fileHeader: bool, fileHeaderKey: str, basenameHeader: bool, basenameHeaderKey: str,
      includePattern: str, ignorePattern: str, trackerDir: str, consumeOrder: { as: 'lower' }, pollDelay: int, recursiveDirectorySearch: bool,
      batchSize: int, inputCharset: str,
      trackingPolicy: onlyValue(['rename'], 'finished files are renamed with fileSuffix (or deleted with deletePolicy = immediate); tracker_dir marker files are not available.'),
      deserializer: onlyValue(['LINE', 'org.apache.flume.serialization.LineDeserializer$Builder'], 'files are read line by line (the LINE deserializer); AVRO and BLOB deserializers are not available.'),
      'deserializer.maxLineLength': { to: 'maxLineLength', as: 'int' },
      bufferMaxLineLength: { to: 'maxLineLength', as: 'int' },
      'deserializer.outputCharset': onlyValue(['UTF-8', 'UTF8'], 'event bodies are UTF-8.'),
      decodeErrorPolicy: {
        map: (p, _out, ctx) => {
          if (p.value.trim().toUpperCase() === 'FAIL') ctx.warn(p, 'decodeErrorPolicy FAIL: a line that does not decode goes to dead letters (reason invalid-encoding) instead of stopping the source.');
          else ctx.error(p, `decodeErrorPolicy ${p.value} is not supported: lines that do not decode go to dead letters (reason invalid-encoding); remove the key or set FAIL.`);
        },
      },
      maxBackoff: { ignored: 'a source that finds its channel full is backed off by its runner.' },
      bufferMaxLines: { ignored: 'obsolete in Flume too.' },
    },
    defaults: [['format', 'text', "Flume's LINE deserializer: every line is one event, whatever it holds"]],
  },
  {
    target: 'kafka',
    names: ['org.apache.flume.source.kafka.KafkaSource'],
    keys: {
      'kafka.bootstrap.servers': { to: 'bootstrapServers', as: 'csv' },
      'kafka.topics': { to: 'topics', as: 'csv' },
      'kafka.topics.regex': { to: 'topicsRegex', as: 'str' },
      topic: { to: 'topics', as: 'csv' },
      groupId: { to: 'groupId', as: 'str' },
      batchSize: int, batchDurationMillis: int, setTopicHeader: bool, topicHeader: str, timestampHeader: str,
      useFlumeEventFormat: onlyValue(['false'], 'records are read as plain bodies; Avro-encoded Flume events are not decoded.'),
      zookeeperConnect: { unsupported: 'brokers are found through kafka.bootstrap.servers and offsets live in Kafka; remove it.' },
      migrateZookeeperOffsets: { ignored: 'offsets are the consumer group\'s, kept in Kafka.' },
      backoffSleepIncrement: { ignored: 'the source\'s runner backs off on its own schedule when polls are empty.' },
      maxBackoffSleep: { ignored: 'the source\'s runner backs off on its own schedule when polls are empty.' },
    },
    prefixes: [
      kafkaClientRule('consumer'),
      { prefix: 'header.', handle: (_s, p, _o, ctx) => (ctx.error(p, `${p.name} is not supported: Kafka record headers are not copied into event headers.`), true) },
    ],
    defaults: [
      ['groupId', 'flume', "Flume's default consumer group, so the group's committed offsets carry over"],
      ['format', 'raw', 'record values pass through as bytes, as in Flume'],
    ],
    finish: (out, ctx, _p, state) => finishSecurity(out, ctx, state),
  },
];

export const CHANNELS: TypeSpec[] = [
  {
    target: 'memory',
    names: ['memory', 'org.apache.flume.channel.MemoryChannel'],
    keys: {
      capacity: int, transactionCapacity: int, byteCapacity: int, 'keep-alive': { to: 'keepAlive', as: 'int' },
      byteCapacityBufferPercentage: { ignored: 'byteCapacity bounds the event bodies; no share of it is set aside for headers.' },
    },
    defaults: [['capacity', 100, "Flume's default"], ['transactionCapacity', 100, "Flume's default"]],
  },
  {
    target: 'file',
    names: ['file', 'org.apache.flume.channel.file.FileChannel'],
    keys: {
      checkpointDir: str, dataDirs: { as: 'csv' }, capacity: int, transactionCapacity: int, maxFileSize: int, minimumRequiredSpace: int,
      'keep-alive': { to: 'keepAlive', as: 'int' },
      fsyncPerTransaction: { map: (p, out) => out.entries.set('fsync', leaf(isTrue(p) ? 'commit' : 'interval', pos(p))) },
      fsyncInterval: {
        map: (p, out, ctx) => {
          if (/^\s*\d+\s*$/.test(p.value)) out.entries.set('fsyncIntervalMs', leaf(Number(p.value) * 1000, pos(p), 'Flume counts seconds'));
          else ctx.error(p, `fsyncInterval must be a whole number of seconds; got "${p.value}".`);
        },
      },
      useDualCheckpoints: onlyValue(['false'], 'there are no checkpoints to back up: the write-ahead log is replayed from its checksummed segments.'),
      backupCheckpointDir: { ignored: 'there are no checkpoints to back up.' },
      compressBackupCheckpoint: { ignored: 'there are no checkpoints to back up.' },
      checkpointInterval: { ignored: 'there is no periodic checkpoint: the log is replayed from its segments on start.' },
      checkpointOnClose: { ignored: 'there is no checkpoint to write on close.' },
      'use-log-replay-v1': { ignored: 'there is one replay method.' },
      'use-fast-replay': { ignored: 'there is one replay method.' },
    },
    prefixes: [{ prefix: 'encryption.', handle: (_s, p, _o, ctx) => (ctx.error(p, `${p.name} is not supported: the file channel does not encrypt its log; use an encrypted file system.`), true) }],
  },
];

export const SINKS: TypeSpec[] = [
  {
    target: 'kafka',
    names: ['org.apache.flume.sink.kafka.KafkaSink'],
    keys: {
      'kafka.bootstrap.servers': { to: 'bootstrapServers', as: 'csv' },
      brokerList: { to: 'bootstrapServers', as: 'csv' },
      'kafka.topic': { to: 'topic', as: 'str' },
      topic: { to: 'topic', as: 'str' },
      flumeBatchSize: { to: 'batchSize', as: 'int' },
      batchSize: { to: 'batchSize', as: 'int' },
      'kafka.flumeBatchSize': {
        map: (p, out, ctx) => {
          ctx.warn(p, 'kafka.flumeBatchSize is honoured here as the batch size, although Flume 1.11 ignores it (its user guide example is wrong): the key Flume reads is flumeBatchSize.');
          out.entries.set('batchSize', leaf(convert(p, 'int'), pos(p)));
        },
      },
      requiredAcks: { map: (p, out) => setAcks(p, out) },
      allowTopicOverride: { map: (p, _o, _c, state) => void (state.allowTopicOverride = p) },
      topicHeader: { map: (p, _o, _c, state) => void (state.topicHeader = p) },
      useFlumeEventFormat: onlyValue(['false'], 'records carry the event body only; Avro-encoded Flume events are not written.'),
      defaultPartitionId: { unsupported: 'records are spread by the default partitioner (by key when there is one).' },
      partitionIdHeader: { unsupported: 'records are spread by the default partitioner (by key when there is one).' },
      timestampHeader: { unsupported: 'the record timestamp is the time of the send.' },
    },
    prefixes: [
      kafkaClientRule('producer'),
      {
        prefix: 'header.',
        handle: (name, p, out, ctx) => {
          if (name !== p.value.trim()) ctx.error(p, `${p.name} = ${p.value} is not supported: event headers are copied to Kafka headers under the same name (write header.${name} = ${name}).`);
          else {
            const h = out.entries.get('headers');
            const list = h?.kind === 'leaf' && Array.isArray(h.value) ? h.value : [];
            out.entries.set('headers', leaf([...list, name], h?.pos ?? pos(p)));
          }
          return true;
        },
      },
    ],
    defaults: [
      ['topic', 'default-flume-topic', "Flume's default topic"],
      ['batchSize', 100, "Flume's default flumeBatchSize"],
      ['format', 'raw', 'event bodies are written as they are, as in Flume'],
    ],
    finish: (out, ctx, _p, state) => finishSecurity(out, ctx, state),
  },
  {
    target: 'hdfs',
    names: ['hdfs', 'org.apache.flume.sink.hdfs.HDFSEventSink'],
    keys: {
      'hdfs.path': {
        map: (p, out, ctx) => {
          if (/%\[(localhost|IP|FQDN)\]/.test(p.value)) return ctx.error(p, 'the host escapes %[localhost], %[IP] and %[FQDN] are not supported (%[name] is a body field here): add a host processor and use %{host}.');
          if (p.expanded === undefined) return ctx.error(p, 'hdfs.path uses an environment variable that is not set: the NameNode is resolved when the file is read, so set it (or give a default with ${env:NAME:-value}).');
          try {
            const r = resolveHdfsPath(p.expanded, ctx.hadoop());
            out.entries.set('namenodes', leaf(r.namenodes, pos(p), `WebHDFS from ${r.via}`));
            out.entries.set('path', leaf(r.path, pos(p)));
          } catch (error) {
            ctx.error(p, `hdfs.path: ${(error as Error).message}`);
          }
        },
      },
      'hdfs.filePrefix': { to: 'filePrefix' }, 'hdfs.fileSuffix': { to: 'fileSuffix' }, 'hdfs.inUsePrefix': { to: 'inUsePrefix' }, 'hdfs.inUseSuffix': { to: 'inUseSuffix' },
      'hdfs.emptyInUseSuffix': { map: (p, out) => void (isTrue(p) && out.entries.set('inUseSuffix', leaf('', pos(p)))) },
      'hdfs.rollInterval': { to: 'rollInterval', as: 'int' }, 'hdfs.rollSize': { to: 'rollSize', as: 'int' }, 'hdfs.rollCount': { to: 'rollCount', as: 'int' },
      'hdfs.idleTimeout': { to: 'idleTimeout', as: 'int' }, 'hdfs.batchSize': { to: 'batchSize', as: 'int' }, 'hdfs.fileType': { to: 'fileType' },
      'hdfs.codeC': { map: (p, out) => out.entries.set('codeC', leaf(/^(gzip|gzipcodec|org\.apache\.hadoop\.io\.compress\.gzipcodec)$/i.test(p.value.trim()) ? 'gzip' : p.yaml, pos(p))) },
      'hdfs.maxOpenFiles': { to: 'maxOpenFiles', as: 'int' }, 'hdfs.round': { to: 'round', as: 'bool' }, 'hdfs.roundValue': { to: 'roundValue', as: 'int' },
      'hdfs.roundUnit': { to: 'roundUnit', as: 'lower' }, 'hdfs.timeZone': { to: 'timeZone' }, 'hdfs.useLocalTimeStamp': { to: 'useLocalTimeStamp', as: 'bool' },
      'hdfs.callTimeout': { to: 'callTimeout', as: 'int' }, 'hdfs.proxyUser': { to: 'user' },
      'hdfs.minBlockReplicas': { ignored: 'files roll by time, size, count and idleness only.' },
      'hdfs.writeFormat': { ignored: 'it applies to SequenceFile only, which is not written here.' },
      'hdfs.threadsPoolSize': { ignored: 'the buckets of a batch are written concurrently without a thread pool.' },
      'hdfs.rollTimerPoolSize': { ignored: 'rolls are checked on the agent\'s clock without a thread pool.' },
      'hdfs.closeTries': { ignored: 'a file whose close failed is finished on the next start (crash recovery).' },
      'hdfs.retryInterval': { ignored: 'a file whose close failed is finished on the next start (crash recovery).' },
      'hdfs.kerberosPrincipal': { unsupported: 'only simple authentication (user.name) is available.' },
      'hdfs.kerberosKeytab': { unsupported: 'only simple authentication (user.name) is available.' },
      serializer: onlyValue(['text', 'org.apache.flume.serialization.BodyTextEventSerializer$Builder'], 'event bodies are written as text lines (the TEXT serializer).'),
      'serializer.appendNewline': onlyValue(['true'], 'every body is followed by a newline.'),
    },
    defaults: [['batchSize', 100, "Flume's default hdfs.batchSize"], ['timeZone', 'local', "Flume's default: the agent machine's zone"]],
    finish: (out, ctx, typeProp) => {
      if (!out.entries.has('fileType')) {
        ctx.warn(typeProp, "hdfs.fileType is not set: Flume's default SequenceFile is not supported, so events are written as DataStream (one body per line); set hdfs.fileType = DataStream to say so.");
      }
    },
  },
  { target: 'logger', names: ['logger', 'org.apache.flume.sink.LoggerSink'], keys: { maxBytesToLog: int }, defaults: [['maxBytesToLog', 16, "Flume's default"]] },
  {
    target: 'file_roll',
    names: ['file_roll', 'org.apache.flume.sink.RollingFileSink'],
    keys: {
      'sink.directory': { to: 'directory' }, 'sink.rollInterval': { to: 'rollInterval', as: 'int' }, 'sink.batchSize': { to: 'batchSize', as: 'int' },
      'sink.pathManager': onlyValue(['DEFAULT'], 'files are named <prefix><startMillis>-<n>.<extension>.'),
      'sink.pathManager.extension': { to: 'extension' }, 'sink.pathManager.prefix': { to: 'prefix' },
      'sink.serializer': onlyValue(['TEXT', 'org.apache.flume.serialization.BodyTextEventSerializer$Builder'], 'event bodies are written as text lines (the TEXT serializer).'),
      'sink.serializer.appendNewline': onlyValue(['true'], 'every body is followed by a newline.'),
    },
    defaults: [['format', 'text', "Flume's TEXT serializer: the body as it is"], ['prefix', '', "Flume's default: no prefix"], ['extension', '', "Flume's default: no extension"]],
  },
  { target: 'null', names: ['null', 'org.apache.flume.sink.NullSink'], keys: { batchSize: int } },
];

export const INTERCEPTORS: TypeSpec[] = [
  { target: 'timestamp', names: ['timestamp', 'org.apache.flume.interceptor.TimestampInterceptor$Builder'], keys: { headerName: str, preserveExisting: bool } },
  { target: 'host', names: ['host', 'org.apache.flume.interceptor.HostInterceptor$Builder'], keys: { hostHeader: str, useIP: bool, preserveExisting: bool } },
  { target: 'static', names: ['static', 'org.apache.flume.interceptor.StaticInterceptor$Builder'], keys: { key: str, value: str, preserveExisting: bool } },
];

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, formatProblem } from '../problems.ts';
import { flumeToYaml } from './loader.ts';

const FILE = '/etc/flume/agent.conf';

/** The translated agent `a` (as plain data), with the warnings formatted. */
function tr(conf: string, env: NodeJS.ProcessEnv = {}, name?: string) {
  const y = flumeToYaml(conf, FILE, env, name);
  const doc = parse(y.text) as { agents: Record<string, any> };
  return { agent: doc.agents.a, agents: doc.agents, text: y.text, warnings: y.warnings.map(formatProblem) };
}

/** The problems a translation reports, formatted with file:line:col. */
function problems(conf: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    flumeToYaml(conf, FILE, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected problems');
}

/** A file with one channel c (memory), one source s and one sink k; extra lines are appended. */
const base = (source: string, sink: string, extra = '') => `a.sources = s
a.channels = c
a.sinks = k
a.channels.c.type = memory
a.channels.c.capacity = 100000
a.channels.c.transactionCapacity = 10000
a.sources.s.channels = c
a.sinks.k.channel = c
${source}
${sink}
${extra}`;
const nullSink = 'a.sinks.k.type = null';
const spool = 'a.sources.s.type = spooldir\na.sources.s.spoolDir = /spool';

describe('Flume translation: sources', () => {
  it('spooldir: every supported key, the LINE deserializer as text, and Flume aliases in any case', () => {
    const { agent, warnings } = tr(
      base(
        `a.sources.s.type = SPOOLDIR
a.sources.s.spoolDir = /data/spool
a.sources.s.fileSuffix = .DONE
a.sources.s.deletePolicy = IMMEDIATE
a.sources.s.fileHeader = true
a.sources.s.fileHeaderKey = path
a.sources.s.basenameHeader = TRUE
a.sources.s.basenameHeaderKey = name
a.sources.s.includePattern = ^.*\\\\.json$
a.sources.s.ignorePattern = ^tmp.*$
a.sources.s.trackerDir = .track
a.sources.s.trackingPolicy = rename
a.sources.s.consumeOrder = YOUNGEST
a.sources.s.pollDelay = 250
a.sources.s.recursiveDirectorySearch = true
a.sources.s.batchSize = 500
a.sources.s.inputCharset = ISO-8859-1
a.sources.s.deserializer = LINE
a.sources.s.deserializer.maxLineLength = 4096
a.sources.s.deserializer.outputCharset = UTF-8
a.sources.s.decodeErrorPolicy = FAIL
a.sources.s.maxBackoff = 8000`,
        nullSink,
      ),
    );
    expect(agent.sources.s).toEqual({
      type: 'spooldir', channels: ['c'], spoolDir: '/data/spool', fileSuffix: '.DONE', deletePolicy: 'immediate', fileHeader: true, fileHeaderKey: 'path',
      basenameHeader: true, basenameHeaderKey: 'name', includePattern: '^.*\\.json$', ignorePattern: '^tmp.*$', trackerDir: '.track', consumeOrder: 'youngest',
      pollDelay: 250, recursiveDirectorySearch: true, batchSize: 500, inputCharset: 'ISO-8859-1', maxLineLength: 4096, format: 'text',
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^\/etc\/flume\/agent.conf:29:1 a\.sources\.s\.decodeErrorPolicy: decodeErrorPolicy FAIL: .*dead letters/),
      expect.stringMatching(/:30:1 a\.sources\.s\.maxBackoff: maxBackoff has no effect here and is ignored/),
    ]);
  });

  it('Kafka source: keys, Flume\'s consumer group and raw bodies by default, and consumer properties', () => {
    const { agent } = tr(
      base(
        `a.sources.s.type = org.apache.flume.source.kafka.KafkaSource
a.sources.s.kafka.bootstrap.servers = k1:9092, k2:9092
a.sources.s.kafka.topics = finance,weather
a.sources.s.batchSize = 2000
a.sources.s.batchDurationMillis = 500
a.sources.s.setTopicHeader = false
a.sources.s.topicHeader = t
a.sources.s.timestampHeader = kts
a.sources.s.kafka.consumer.auto.offset.reset = earliest
a.sources.s.kafka.consumer.client.id = flume-1
a.sources.s.kafka.consumer.session.timeout.ms = 30000
a.sources.s.kafka.consumer.max.partition.fetch.bytes = 1048576`,
        nullSink,
      ),
    );
    expect(agent.sources.s).toEqual({
      type: 'kafka', channels: ['c'], bootstrapServers: ['k1:9092', 'k2:9092'], topics: ['finance', 'weather'], batchSize: 2000, batchDurationMillis: 500,
      setTopicHeader: false, topicHeader: 't', timestampHeader: 'kts', startFrom: 'earliest', clientId: 'flume-1',
      consumer: { sessionTimeout: 30000, maxBytesPerPartition: 1048576 }, groupId: 'flume', format: 'raw',
    });
    const g = tr(base('a.sources.s.type = org.apache.flume.source.kafka.KafkaSource\na.sources.s.kafka.bootstrap.servers = k:9092\na.sources.s.kafka.topics.regex = ^fin.*\na.sources.s.kafka.consumer.group.id = etl', nullSink));
    expect(g.agent.sources.s).toMatchObject({ topicsRegex: '^fin.*', groupId: 'etl' });
  });

  it('Kafka security: SASL_SSL with a PLAIN JAAS login and a PEM trust store; SCRAM mechanisms', () => {
    const { agent } = tr(
      base(
        `a.sources.s.type = org.apache.flume.source.kafka.KafkaSource
a.sources.s.kafka.bootstrap.servers = k:9093
a.sources.s.kafka.topics = t
a.sources.s.kafka.consumer.security.protocol = SASL_SSL
a.sources.s.kafka.consumer.sasl.mechanism = SCRAM-SHA-512
a.sources.s.kafka.consumer.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="etl" password="\${env:KAFKA_PASSWORD}";
a.sources.s.kafka.consumer.ssl.truststore.type = PEM
a.sources.s.kafka.consumer.ssl.truststore.location = /etc/kafka/ca.pem`,
        nullSink,
      ),
    );
    expect(agent.sources.s.ssl).toEqual({ caFile: '/etc/kafka/ca.pem' });
    expect(agent.sources.s.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'etl', password: '${KAFKA_PASSWORD}' });
    const ssl = tr(base('a.sources.s.type = org.apache.flume.source.kafka.KafkaSource\na.sources.s.kafka.bootstrap.servers = k:9093\na.sources.s.kafka.topics = t\na.sources.s.kafka.consumer.security.protocol = SSL', nullSink));
    expect(ssl.agent.sources.s.ssl).toBe(true);
    expect(problems(base('a.sources.s.type = org.apache.flume.source.kafka.KafkaSource\na.sources.s.kafka.bootstrap.servers = k:9093\na.sources.s.kafka.topics = t\na.sources.s.kafka.consumer.security.protocol = SASL_PLAINTEXT\na.sources.s.kafka.consumer.sasl.mechanism = GSSAPI', nullSink, 'a.sources.s.kafka.consumer.sasl.jaas.config = x username="u";'))).toEqual([
      expect.stringMatching(/:13:1 .*sasl\.mechanism: SASL mechanism "GSSAPI" is not supported/),
    ]);
  });

  it('Kafka source keys it cannot honour are errors at their lines', () => {
    const errs = problems(
      base(
        `a.sources.s.type = org.apache.flume.source.kafka.KafkaSource
a.sources.s.kafka.bootstrap.servers = k:9092
a.sources.s.kafka.topics = t
a.sources.s.useFlumeEventFormat = true
a.sources.s.header.traceId = trace
a.sources.s.kafka.consumer.partition.assignment.strategy = range
a.sources.s.zookeeperConnect = zk:2181`,
        nullSink,
      ),
    );
    expect(errs).toEqual([
      expect.stringMatching(/:12:1 .*useFlumeEventFormat = true is not supported: .*Avro/),
      expect.stringMatching(/:13:1 .*header\.traceId is not supported: Kafka record headers/),
      expect.stringMatching(/:14:1 .*partition\.assignment\.strategy is not supported: .*group\.id, auto\.offset\.reset/),
      expect.stringMatching(/:15:1 .*zookeeperConnect is not supported/),
    ]);
  });
});

describe('Flume translation: channels', () => {
  it('memory: Flume\'s sizes (100/100) when left out, keep-alive in seconds, byteCapacity', () => {
    const conf = `a.sources = s\na.channels = c\na.sinks = k\na.channels.c.type = memory\na.channels.c.keep-alive = 5\na.channels.c.byteCapacity = 1000000\na.channels.c.byteCapacityBufferPercentage = 10\n${spool}\na.sources.s.channels = c\na.sinks.k.type = null\na.sinks.k.channel = c\n`;
    const { agent, warnings } = tr(conf);
    expect(agent.channels.c).toEqual({ type: 'memory', keepAlive: 5, byteCapacity: 1000000, capacity: 100, transactionCapacity: 100 });
    expect(warnings).toEqual([expect.stringMatching(/:7:1 .*byteCapacityBufferPercentage has no effect here/)]);
  });

  it('file: directories, sizes, fsync settings (fsyncInterval seconds → fsyncIntervalMs) and ignored checkpoint keys', () => {
    const { agent, warnings } = tr(
      base(spool, nullSink, `a.channels = c f
a.channels.f.type = FILE
a.channels.f.checkpointDir = /var/flume/cp
a.channels.f.dataDirs = /d1,/d2
a.channels.f.capacity = 2000000
a.channels.f.transactionCapacity = 5000
a.channels.f.maxFileSize = 1073741824
a.channels.f.minimumRequiredSpace = 104857600
a.channels.f.keep-alive = 10
a.channels.f.fsyncPerTransaction = false
a.channels.f.fsyncInterval = 2
a.channels.f.useDualCheckpoints = false
a.channels.f.checkpointInterval = 60000
a.sinks = k k2
a.sinks.k2.type = null
a.sinks.k2.channel = f`),
    );
    expect(agent.channels.f).toEqual({
      type: 'file', checkpointDir: '/var/flume/cp', dataDirs: ['/d1', '/d2'], capacity: 2000000, transactionCapacity: 5000, maxFileSize: 1073741824,
      minimumRequiredSpace: 104857600, keepAlive: 10, fsync: 'interval', fsyncIntervalMs: 2000,
    });
    expect(warnings).toEqual([
      expect.stringMatching(/:12:1 a\.channels: a\.channels is set again \(first at line 2\); the later value wins/),
      expect.stringMatching(/:25:1 a\.sinks: a\.sinks is set again \(first at line 3\)/),
      expect.stringMatching(/:24:1 .*checkpointInterval has no effect here/),
    ]);
    expect(problems(base(spool, nullSink, 'a.channels.c.encryption.activeKey = k1\na.channels.c.type = file\na.channels.c.useDualCheckpoints = true'))).toEqual([
      expect.stringMatching(/:12:1 .*encryption\.activeKey is not supported: the file channel does not encrypt/),
      expect.stringMatching(/:14:1 .*useDualCheckpoints = true is not supported/),
    ]);
  });
});

describe('Flume translation: sinks', () => {
  it('Kafka sink: keys, Flume\'s topic and batch defaults, raw bodies, acks 1 without idempotence, header copies', () => {
    const sink = (extra: string) => `a.sinks.k.type = org.apache.flume.sink.kafka.KafkaSink\na.sinks.k.kafka.bootstrap.servers = k:9092\n${extra}`;
    expect(tr(base(spool, sink(''))).agent.sinks.k).toEqual({ type: 'kafka', channel: 'c', bootstrapServers: ['k:9092'], topic: 'default-flume-topic', batchSize: 100, format: 'raw' });
    const { agent } = tr(
      base(
        spool,
        sink(`a.sinks.k.kafka.topic = finance-%{branch}
a.sinks.k.flumeBatchSize = 500
a.sinks.k.kafka.producer.acks = 1
a.sinks.k.kafka.producer.compression.type = LZ4
a.sinks.k.kafka.producer.max.request.size = 2000000
a.sinks.k.kafka.producer.linger.ms = 5
a.sinks.k.header.traceId = traceId
a.sinks.k.allowTopicOverride = false`),
      ),
    );
    expect(agent.sinks.k).toEqual({
      type: 'kafka', channel: 'c', bootstrapServers: ['k:9092'], topic: 'finance-%{branch}', batchSize: 500, acks: 1, idempotent: false, compression: 'lz4',
      maxMessageBytes: 2000000, headers: ['traceId'], format: 'raw',
    });
    expect(tr(base(spool, sink('a.sinks.k.kafka.producer.acks = -1'))).agent.sinks.k.acks).toBe('all');
    const doc = tr(base(spool, sink('a.sinks.k.kafka.flumeBatchSize = 300')));
    expect(doc.agent.sinks.k.batchSize).toBe(300);
    expect(doc.warnings).toEqual([expect.stringMatching(/kafka\.flumeBatchSize is honoured here .* Flume 1\.11 ignores it/)]);
    expect(problems(base(spool, sink('a.sinks.k.partitionIdHeader = p\na.sinks.k.header.a = b')))).toEqual([
      expect.stringMatching(/:13:1 .*partitionIdHeader is not supported/),
      expect.stringMatching(/:14:1 .*header\.a = b is not supported: .*same name/),
    ]);
  });

  it('Kafka sink after a Kafka source: the topic header Flume would route by is an error; the key header a warning', () => {
    const conf = base(
      'a.sources.s.type = org.apache.flume.source.kafka.KafkaSource\na.sources.s.kafka.bootstrap.servers = k:9092\na.sources.s.kafka.topics = in',
      'a.sinks.k.type = org.apache.flume.sink.kafka.KafkaSink\na.sinks.k.kafka.bootstrap.servers = k:9092\na.sinks.k.kafka.topic = out',
    );
    expect(problems(conf)).toEqual([expect.stringMatching(/:12:1 .*source "s" sets the header "topic".*allowTopicOverride = false .* kafka\.topic = %\{topic\}/)]);
    const ok = tr(`${conf}\na.sinks.k.allowTopicOverride = false`);
    expect(ok.agent.sinks.k.topic).toBe('out');
    expect(ok.warnings).toEqual([expect.stringMatching(/sets the header "key".*without a key/)]);
  });

  it('HDFS sink: every key, the path resolved through $HADOOP_CONF_DIR-less hdfs:// address, Flume defaults', () => {
    const { agent, warnings } = tr(
      base(
        spool,
        `a.sinks.k.type = hdfs
a.sinks.k.hdfs.path = hdfs://nn1:8020/flume/%Y%m%d/%H
a.sinks.k.hdfs.filePrefix = events
a.sinks.k.hdfs.fileSuffix = .jsonl
a.sinks.k.hdfs.inUsePrefix = _
a.sinks.k.hdfs.inUseSuffix = .writing
a.sinks.k.hdfs.rollInterval = 300
a.sinks.k.hdfs.rollSize = 134217728
a.sinks.k.hdfs.rollCount = 0
a.sinks.k.hdfs.idleTimeout = 60
a.sinks.k.hdfs.batchSize = 1000
a.sinks.k.hdfs.fileType = CompressedStream
a.sinks.k.hdfs.codeC = GzipCodec
a.sinks.k.hdfs.maxOpenFiles = 100
a.sinks.k.hdfs.round = true
a.sinks.k.hdfs.roundValue = 10
a.sinks.k.hdfs.roundUnit = MINUTE
a.sinks.k.hdfs.timeZone = Europe/Paris
a.sinks.k.hdfs.useLocalTimeStamp = false
a.sinks.k.hdfs.callTimeout = 10000
a.sinks.k.hdfs.proxyUser = etl
a.sinks.k.hdfs.writeFormat = Text
a.sinks.k.serializer = TEXT`,
      ),
    );
    expect(agent.sinks.k).toEqual({
      type: 'hdfs', channel: 'c', namenodes: ['http://nn1:9870'], path: '/flume/%Y%m%d/%H', filePrefix: 'events', fileSuffix: '.jsonl', inUsePrefix: '_',
      inUseSuffix: '.writing', rollInterval: 300, rollSize: 134217728, rollCount: 0, idleTimeout: 60, batchSize: 1000, fileType: 'CompressedStream', codeC: 'gzip',
      maxOpenFiles: 100, round: true, roundValue: 10, roundUnit: 'minute', timeZone: 'Europe/Paris', useLocalTimeStamp: false, callTimeout: 10000, user: 'etl',
    });
    expect(warnings).toEqual([expect.stringMatching(/:32:1 .*hdfs\.writeFormat has no effect here/)]);
    const dflt = tr(base(spool, 'a.sinks.k.type = hdfs\na.sinks.k.hdfs.path = hdfs://nn1:8020/f'));
    expect(dflt.agent.sinks.k).toMatchObject({ batchSize: 100, timeZone: 'local' });
    expect(dflt.warnings).toEqual([expect.stringMatching(/:11:1 .*hdfs\.fileType is not set: Flume's default SequenceFile is not supported/)]);
  });

  it('HDFS sink: a path Hadoop cannot resolve, host escapes and Kerberos are errors at their lines', () => {
    expect(problems(base(spool, 'a.sinks.k.type = hdfs\na.sinks.k.hdfs.fileType = DataStream\na.sinks.k.hdfs.path = /flume'))).toEqual([
      expect.stringMatching(/:13:1 a\.sinks\.k\.hdfs\.path: hdfs\.path: "\/flume" has no hdfs:\/\/ NameNode .*HADOOP_CONF_DIR/),
    ]);
    expect(problems(base(spool, 'a.sinks.k.type = hdfs\na.sinks.k.hdfs.path = hdfs://nn/%[localhost]\na.sinks.k.hdfs.kerberosKeytab = /k', 'a.sinks.k.hdfs.fileType = DataStream'))).toEqual([
      expect.stringMatching(/:12:1 .*host escapes/),
      expect.stringMatching(/:13:1 .*hdfs\.kerberosKeytab is not supported/),
    ]);
  });

  it('logger, file_roll and null sinks', () => {
    const conf = `a.sources = s\na.channels = c\na.sinks = l f n\n${spool}\na.sources.s.channels = c\na.channels.c.type = memory
a.sinks.l.type = logger\na.sinks.l.channel = c\na.sinks.l.maxBytesToLog = 64
a.sinks.f.type = file_roll\na.sinks.f.channel = c\na.sinks.f.sink.directory = /out\na.sinks.f.sink.rollInterval = 0\na.sinks.f.sink.batchSize = 50
a.sinks.f.sink.pathManager.prefix = tx-\na.sinks.f.sink.pathManager.extension = log\na.sinks.f.sink.serializer = TEXT
a.sinks.n.type = org.apache.flume.sink.NullSink\na.sinks.n.channel = c\na.sinks.n.batchSize = 20`;
    const { agent } = tr(conf);
    expect(agent.sinks).toEqual({
      l: { type: 'logger', channel: 'c', maxBytesToLog: 64 },
      f: { type: 'file_roll', channel: 'c', directory: '/out', rollInterval: 0, batchSize: 50, prefix: 'tx-', extension: 'log', format: 'text' },
      n: { type: 'null', channel: 'c', batchSize: 20 },
    });
    expect(tr(conf.replace('a.sinks.l.maxBytesToLog = 64', '')).agent.sinks.l.maxBytesToLog).toBe(16);
    expect(tr(conf.replace(/a\.sinks\.f\.sink\.pathManager\.\w+ = \S+\n/g, '')).agent.sinks.f).toMatchObject({ prefix: '', extension: '' });
  });
});

describe('Flume translation: interceptors, selectors and sink groups', () => {
  it('interceptors become processors in the source\'s order; a name two sources share gets the source in front', () => {
    const conf = `a.sources = s t\na.channels = c\na.sinks = k\na.channels.c.type = memory\n${nullSink}\na.sinks.k.channel = c
${spool}\na.sources.s.channels = c
a.sources.s.interceptors = ts h st
a.sources.s.interceptors.ts.type = timestamp
a.sources.s.interceptors.ts.preserveExisting = true
a.sources.s.interceptors.ts.headerName = ingest
a.sources.s.interceptors.h.type = org.apache.flume.interceptor.HostInterceptor$Builder
a.sources.s.interceptors.h.useIP = false
a.sources.s.interceptors.h.hostHeader = hostname
a.sources.s.interceptors.st.type = static
a.sources.s.interceptors.st.key = datacenter
a.sources.s.interceptors.st.value = NYC_01
a.sources.t.type = spooldir\na.sources.t.spoolDir = /spool2\na.sources.t.channels = c
a.sources.t.interceptors = ts
a.sources.t.interceptors.ts.type = TIMESTAMP`;
    const { agent } = tr(conf);
    expect(agent.sources.s.processors).toEqual(['ts', 'h', 'st']);
    expect(agent.sources.t.processors).toEqual(['t-ts']);
    expect(agent.processors).toEqual({
      ts: { type: 'timestamp', preserveExisting: true, headerName: 'ingest' },
      h: { type: 'host', useIP: false, hostHeader: 'hostname' },
      st: { type: 'static', key: 'datacenter', value: 'NYC_01' },
      't-ts': { type: 'timestamp' },
    });
    expect(problems(`${conf}\na.sources.t.interceptors.ts.type = regex_filter\na.sources.t.interceptors.x.type = host`)).toEqual([
      expect.stringMatching(/:25:1 .*interceptor type "regex_filter" is not supported.*timestamp/),
      expect.stringMatching(/:26:1 .*interceptor "x" has properties but is not listed in interceptors \(line 23\)/),
    ]);
  });

  it('replicating (with optional channels) and multiplexing selectors; load_balancing is an error', () => {
    const two = `a.sources = s\na.channels = c d\na.sinks = k j\na.channels.c.type = memory\na.channels.d.type = memory\n${nullSink}\na.sinks.k.channel = c\na.sinks.j.type = null\na.sinks.j.channel = d\n${spool}\na.sources.s.channels = c d\n`;
    expect(tr(`${two}a.sources.s.selector.type = replicating\na.sources.s.selector.optional = d`).agent.sources.s.selector).toEqual({ type: 'replicating', optional: ['d'] });
    const mux = tr(`${two}a.sources.s.selector.type = multiplexing\na.sources.s.selector.header = state\na.sources.s.selector.mapping.CZ = c\na.sources.s.selector.mapping.US = c d\na.sources.s.selector.optional.CZ = d\na.sources.s.selector.default = d`);
    expect(mux.agent.sources.s.selector).toEqual({ type: 'multiplexing', header: 'state', mapping: { CZ: ['c'], US: ['c', 'd'] }, optional: { CZ: ['d'] }, default: ['d'] });
    expect(tr(`${two}a.sources.s.selector.type = multiplexing\na.sources.s.selector.default = c`).agent.sources.s.selector.header).toBe('flume.selector.header');
    expect(problems(`${two}a.sources.s.selector.type = load_balancing\n`)).toEqual([expect.stringMatching(/:13:1 .*selector\.type "load_balancing" is not supported.*load_balance sink group/)]);
    expect(problems(`${two}a.sources.s.selector.type = multiplexing\na.sources.s.selector.mappings.CZ = c`)).toEqual([expect.stringMatching(/:14:1 .*unknown key "selector\.mappings\.CZ"/)]);
  });

  it('sink groups: failover with priorities and maxpenalty as a duration, load_balance with selector and backoff', () => {
    const head = `a.sources = s\na.channels = c\na.sinks = k1 k2\na.channels.c.type = memory\n${spool}\na.sources.s.channels = c\na.sinks.k1.type = null\na.sinks.k1.channel = c\na.sinks.k2.type = null\na.sinks.k2.channel = c\na.sinkgroups = g1\na.sinkgroups.g1.sinks = k1 k2\n`;
    const failover = tr(`${head}a.sinkgroups.g1.processor.type = failover\na.sinkgroups.g1.processor.priority.k1 = 10\na.sinkgroups.g1.processor.priority.k2 = 5\na.sinkgroups.g1.processor.maxpenalty = 30000`);
    expect(failover.agent.sinkGroups).toEqual({ g1: { sinks: ['k1', 'k2'], processor: { type: 'failover', priority: { k1: 10, k2: 5 }, maxPenalty: '30s' } } });
    const lb = tr(`${head}a.sinkgroups.g1.processor.type = load_balance\na.sinkgroups.g1.processor.selector = random\na.sinkgroups.g1.processor.backoff = true\na.sinkgroups.g1.processor.selector.maxTimeOut = 1500`);
    expect(lb.agent.sinkGroups).toEqual({ g1: { sinks: ['k1', 'k2'], processor: { type: 'load_balance', selector: 'random', backoff: true, maxTimeOut: '1500ms' } } });
    expect(problems(`${head}a.sinkgroups.g1.processor.type = failover\na.sinkgroups.g1.processor.priority.k3 = 1\na.sinkgroups.g1.processor.maxPenalty = 5`)).toEqual([
      expect.stringMatching(/:15:1 .*"k3" is not a sink of group "g1"/),
      expect.stringMatching(/:16:1 .*unknown key "processor\.maxPenalty" for a failover sink group; did you mean "processor\.maxpenalty"\?/),
    ]);
    expect(problems(`${head}`)).toEqual([expect.stringMatching(/:13:1 .*a default sink processor drives one sink/)]);
  });
});

describe('Flume translation: the file as a whole', () => {
  it('unknown types and keys are errors naming the line, with a "did you mean" and the supported list', () => {
    const errs = problems(base('a.sources.s.type = spooldr\na.sources.s.spoolDir = /x', 'a.sinks.k.type = hdfs\na.sinks.k.hdfs.pathh = /x\na.sinks.k.hdfs.fileType = DataStream', 'a.sinks.k.hdfs.path = hdfs://nn/x'));
    expect(errs).toEqual([
      expect.stringMatching(/^\/etc\/flume\/agent\.conf:9:1 a\.sources\.s\.type: source type "spooldr" is not supported; did you mean "spooldir"\? Supported source types: spooldir, .*KafkaSource\.$/),
      expect.stringMatching(/:12:1 a\.sinks\.k\.hdfs\.pathh: unknown key "hdfs\.pathh" for a Flume hdfs sink; did you mean "hdfs\.path"\? Supported keys: hdfs\.path, /),
    ]);
    expect(problems(base('a.sources.s.type = avro', nullSink))).toEqual([expect.stringMatching(/:9:1 .*source type "avro" is not supported\. Supported source types/)]);
  });

  it('components that are not listed, have no type, or keys outside an agent are errors', () => {
    const errs = problems(`a.sources = s\na.channels = c\na.sinks = k\na.channels.c.type = memory\n${spool}\na.sources.s.channels = c\na.sinks.k.channel = c\na.sinks.x.type = null\norphan = 1\na.sourcez = q\n`);
    expect(errs).toEqual([
      expect.stringMatching(/:8:1 a\.sinks\.k\.type: a\.sinks\.k has no type/),
      expect.stringMatching(/:9:1 a\.sinks\.x: sink "x" has properties but is not listed in a\.sinks \(line 3: k\)/),
      expect.stringMatching(/:10:1 orphan: "orphan" is not a Flume agent key/),
      expect.stringMatching(/:11:1 a\.sourcez: a\.sourcez: unknown key; did you mean "a\.sources"\?/),
    ]);
  });

  it('a batch larger than its channel\'s transactionCapacity is lowered to it, with a warning at the line', () => {
    const { agent, warnings } = tr(base('a.sources.s.type = spooldir\na.sources.s.spoolDir = /x\na.sources.s.batchSize = 50000', 'a.sinks.k.type = logger').replace('transactionCapacity = 10000', 'transactionCapacity = 100'));
    expect(agent.sources.s.batchSize).toBe(100);
    expect(warnings).toEqual([expect.stringMatching(/:11:1 .*batchSize 50000 of source "s" exceeds the transactionCapacity 100 of channel "c", so Flume 1\.11 would not start this source\. Running it with batchSize 100/)]);
  });

  it('${env:NAME} becomes ${NAME} for the YAML loader, lists are split after substitution, other lookups are errors', () => {
    const { agent } = tr(base('a.sources.s.type = org.apache.flume.source.kafka.KafkaSource\na.sources.s.kafka.bootstrap.servers = ${env:BROKERS}\na.sources.s.kafka.topics = t\na.sources.s.batchSize = ${env:BATCH:-10}', nullSink), { BROKERS: 'k1:9092,k2:9092' });
    expect(agent.sources.s.bootstrapServers).toEqual(['k1:9092', 'k2:9092']);
    expect(tr(base(`${spool}\na.sources.s.batchSize = \${env:BATCH:-10}`, nullSink)).text).toContain('batchSize: ${BATCH:-10}');
    expect(problems(base(`${spool}\na.sources.s.fileSuffix = \${sys:user.home}`, nullSink))).toEqual([expect.stringMatching(/:11:1 .*\$\{sys:user\.home\} cannot be resolved: only \$\{env:NAME\}/)]);
  });

  it('--name translates only that agent, as Flume reads only its own keys', () => {
    const two = `${base(spool, nullSink)}\nb.sources = x\nb.channels = y\nb.sources.x.type = avro`;
    expect(() => tr(two)).toThrow(ConfigError);
    expect(Object.keys(tr(two, {}, 'a').agents)).toEqual(['a']);
  });
});

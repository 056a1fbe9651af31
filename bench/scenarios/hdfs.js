// S4: Kafka source → memory → HDFS sink, against Flume 1.11's Kafka source and HDFS sink (Hadoop client 3.5, RPC).
// Both read the same pre-filled topic from the beginning in a fresh consumer group, with the same batch size and
// channel capacity, and write DataStream files into their own fresh HDFS directory (deleted afterwards). The clock
// starts at the first event consumed (group joins are start-up, not throughput).
import { agentRun } from './kafka.js';
import { flumeCounters, startFlume } from '../flume-proc.js';
import { BROKERS, cleanup, inputTopic } from '../kafka-tools.js';
import { interleave, workDir } from '../kit.js';
import { measureUntil, summarize } from '../measure.js';
import { rmSync } from 'node:fs';

const PARTITIONS = 3;
// One batch is one WebHDFS append for fintrans-agent (a whole open-write-close on the DataNode) and one hflush for
// Flume; 10,000 events (2.8 MB) is a size both handle well. Flume's own default (100) would cripple it.
const BATCH = 10_000;
const WEBHDFS = 'http://127.0.0.1:9870/webhdfs/v1';
const uid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function hdfsDelete(path) {
  await fetch(`${WEBHDFS}${path}?op=DELETE&recursive=true&user.name=root`, { method: 'DELETE' }).catch(() => undefined);
}

function agentYaml(topic, group, path) {
  return () => `agents:
  agent:
    sources:
      src: { type: kafka, bootstrapServers: ["${BROKERS[0]}"], topics: [${topic}], groupId: ${group}, startFrom: earliest, batchSize: ${BATCH}, channels: [ch] }
    channels:
      ch: { type: memory, capacity: 100000, transactionCapacity: ${BATCH} }
    sinks:
      out: { type: hdfs, channel: ch, namenodes: ["http://127.0.0.1:9870"], user: root, path: ${path}, filePrefix: events, fileSuffix: .jsonl, rollInterval: 0, rollSize: 134217728, batchSize: ${BATCH}, useLocalTimeStamp: true }
`;
}

function flumeProps(topic, group, path) {
  return {
    sources: 'src', channels: 'ch', sinks: 'out',
    'sources.src.type': 'org.apache.flume.source.kafka.KafkaSource', 'sources.src.kafka.bootstrap.servers': BROKERS[0],
    'sources.src.kafka.topics': topic, 'sources.src.kafka.consumer.group.id': group,
    'sources.src.kafka.consumer.auto.offset.reset': 'earliest', 'sources.src.batchSize': BATCH,
    'sources.src.batchDurationMillis': 1000, 'sources.src.channels': 'ch',
    'channels.ch.type': 'memory', 'channels.ch.capacity': 100000, 'channels.ch.transactionCapacity': BATCH,
    'sinks.out.type': 'hdfs', 'sinks.out.channel': 'ch', 'sinks.out.hdfs.path': `hdfs://127.0.0.1:8020${path}`,
    'sinks.out.hdfs.filePrefix': 'events', 'sinks.out.hdfs.fileSuffix': '.jsonl', 'sinks.out.hdfs.fileType': 'DataStream',
    'sinks.out.hdfs.writeFormat': 'Text', 'sinks.out.hdfs.batchSize': BATCH, 'sinks.out.hdfs.rollInterval': 0,
    'sinks.out.hdfs.rollSize': 134217728, 'sinks.out.hdfs.rollCount': 0, 'sinks.out.hdfs.useLocalTimeStamp': true,
    // The Hadoop client asks for 3 replicas by default; with the one DataNode every block counts as
    // under-replicated and Flume would roll the file after each batch.
    'sinks.out.hdfs.minBlockReplicas': 1,
  };
}

async function flumeRun(topic, group, path, total) {
  const dir = workDir('S4-flume');
  const sys = await startFlume(dir, flumeProps(topic, group, path), ['SOURCE.src', 'CHANNEL.ch', 'SINK.out']);
  try {
    const { counters: _, ...r } = await measureUntil({ pid: sys.pid, total, timeoutMs: 600_000, read: async () => flumeCounters(await sys.status()) });
    return r;
  } finally {
    await sys.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const S4 = {
  id: 'S4', name: 'Kafka source → memory → HDFS sink', servers: ['kafka', 'hdfs'], goal: '≥ 3× Flume',
  reference: 'Flume 1.11 Kafka source → memory → HDFS sink',
  judge: (r) => r.ratio >= 3,
  async run({ runs, log, profileDir, scale, withReference }) {
    const total = Math.max(20_000, Math.round((200_000 * scale) / 10_000) * 10_000);
    const topic = await inputTopic(total, PARTITIONS, log);
    const groups = [];
    const paths = [];
    const fresh = (who) => {
      const id = `${who}-${uid()}`;
      groups.push(`fintrans-bench-s4-${id}`);
      paths.push(`/fintrans-bench/s4-${id}`);
      return [groups.at(-1), paths.at(-1)];
    };
    try {
      const res = await interleave(
        runs,
        () => {
          const [group, path] = fresh('fintrans');
          return agentRun('S4-fintrans', agentYaml(topic, group, path), total, ['out'], { profileDir });
        },
        withReference && (() => flumeRun(topic, ...fresh('flume'), total)),
        log,
      );
      return {
        events: total,
        fintrans: res.fintrans.length ? summarize(res.fintrans, 277) : null,
        reference: res.reference.length ? { name: this.reference, ...summarize(res.reference, 277) } : null,
        errors: res.errors,
        notes: [`Batch size ${BATCH.toLocaleString('en-US')} events (source, channel transactions and sink) for both; ${PARTITIONS} partitions; clock from the first event consumed to the last event acknowledged by HDFS (Flume: after hflush).`],
      };
    } finally {
      await cleanup({ groups });
      for (const p of paths) await hdfsDelete(p);
    }
  },
};

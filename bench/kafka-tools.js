// Kafka for the bench: topics (kafkajs admin), the input topic filled once with the data set, and Kafka's own
// ProducerPerformance tool (org.apache.kafka.tools, kafka-tools 3.9.2 from Maven Central through the harness's
// fetcher, like the broker's jars), measured by PID like everything else.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { fetchMaven } from '../servers/fetch.ts';
import { createDirs, makeCtx } from '../servers/layout.ts';
import { dataLines } from './kit.js';
import { procSample } from './measure.js';

export const BROKERS = ['127.0.0.1:9092'];
const KAFKA_VERSION = '3.9.2';
const kafka = new kafkajs.Kafka({ clientId: 'fintrans-bench', brokers: BROKERS, logLevel: kafkajs.logLevel.ERROR });

export async function withAdmin(fn) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(topic, partitions) {
  await withAdmin((a) => a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }));
}

/** Deletes the bench's own topics and consumer groups (names it made for one run); errors are ignored. */
export async function cleanup({ topics = [], groups = [] }) {
  await withAdmin(async (a) => {
    if (groups.length) await a.deleteGroups(groups).catch(() => undefined);
    if (topics.length) await a.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
  }).catch(() => undefined);
}

/**
 * A topic holding the first `n` records of the data set, spread over `partitions`. It is kept between bench runs
 * (like bench/data) and refilled only when its record count is not n, e.g. after the broker lost its data.
 */
export async function inputTopic(n, partitions, log) {
  // Named after the data set's first record, so a regenerated data set never meets a topic of the old one.
  const [first] = await dataLines(1);
  const prefix = `fintrans-bench-input-${n}-p${partitions}-`;
  const topic = `${prefix}${createHash('sha256').update(first).digest('hex').slice(0, 8)}`;
  const { count, stale } = await withAdmin(async (a) => {
    const names = await a.listTopics();
    const stale = names.filter((t) => (t.startsWith(prefix) || t === prefix.slice(0, -1)) && t !== topic);
    if (!names.includes(topic)) return { count: -1, stale };
    return { count: (await a.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0), stale };
  });
  if (count === n) return topic;
  log(`  filling topic ${topic} with ${n.toLocaleString('en-US')} records (once; kept for later runs)`);
  const drop = count >= 0 ? [...stale, topic] : stale;
  if (drop.length) await withAdmin((a) => a.deleteTopics({ topics: drop })), await sleep(2000);
  await createTopic(topic, partitions);
  const lines = await dataLines(n);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < lines.length; i += 5000) {
      await producer.send({ topic, acks: -1, messages: lines.slice(i, i + 5000).map((value) => ({ value })) });
    }
  } finally {
    await producer.disconnect();
  }
  return topic;
}

async function toolsClasspath() {
  const ctx = makeCtx('kafka-tools', '');
  createDirs(ctx);
  await fetchMaven(ctx, { deps: [`org.apache.kafka:kafka-tools:${KAFKA_VERSION}`, 'org.slf4j:slf4j-reload4j:1.7.36'] });
  writeFileSync(join(ctx.conf, 'log4j.properties'), 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n');
  return { cp: join(ctx.libs, '*'), log4j: join(ctx.conf, 'log4j.properties') };
}

/**
 * One ProducerPerformance run (the heap of kafka-producer-perf-test.sh, -Xmx512M). Its own figures are the
 * reference: records/s over its send loop, and send→ack latency percentiles. CPU and peak RSS come from /proc,
 * sampled until it exits; `startupCpuSec` (a 1-record run's CPU) is subtracted so JVM start-up is not counted.
 */
export async function producerPerformance({ topic, records, recordSize, startupCpuSec = 0 }) {
  const { cp, log4j } = await toolsClasspath();
  const args = ['-Xmx512M', `-Dlog4j.configuration=file:${log4j}`, '-cp', cp, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(records), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', 'acks=all', `bootstrap.servers=${BROKERS[0]}`];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const exit = new Promise((resolve) => child.once('exit', resolve));
  let last;
  let done = false;
  void exit.then(() => (done = true));
  let peakRssMb = 0;
  while (!done) {
    // A zombie still has a stat line but no memory lines: keep the last sample of the living process.
    const s = procSample(child.pid);
    if (s && s.rssMb > 0) (last = s), (peakRssMb = Math.max(peakRssMb, s.peakRssMb));
    await sleep(20);
  }
  const code = await exit;
  const summary = out.trim().split('\n').reverse().find((l) => l.includes('records sent'));
  if (code !== 0 || !summary) throw new Error(`ProducerPerformance exited with ${code}:\n${out.slice(-2000)}`);
  const num = (re) => Number(re.exec(summary)?.[1]);
  return {
    eventsPerSec: num(/([\d.]+) records\/sec/),
    cpuSecPerMillion: (last.cpuSec - startupCpuSec) / (records / 1e6),
    peakRssMb,
    p50AgeMs: num(/(\d+) ms 50th/),
    p99AgeMs: num(/(\d+) ms 99th/),
    cpuSecWithStartup: last.cpuSec,
  };
}

export function javaAvailable() {
  return spawnSync('java', ['-version']).status === 0;
}

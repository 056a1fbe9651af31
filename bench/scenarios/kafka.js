// S3, S4 and S5: the Kafka rows. Topics have PARTITIONS partitions for both systems; every run gets fresh output
// topics, consumer groups and HDFS directories, deleted afterwards.
import { mkdirSync, rmSync } from 'node:fs';
import { agentAges, agentCounters, startAgentProcess } from '../agent-proc.js';
import { flumeCounters, startFlume } from '../flume-proc.js';
import { BROKERS, cleanup, createTopic, inputTopic, producerPerformance } from '../kafka-tools.js';
import { interleave, workDir } from '../kit.js';
import { measureUntil, summarize } from '../measure.js';

const PARTITIONS = 3;
const RECORD_SIZE = 280; // the issue's figure; the data set's JSON lines average 276 bytes (277 with the newline)
const brokers = `[${BROKERS.map((b) => `"${b}"`).join(', ')}]`;
const uid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const count = (events, scale) => Math.max(10_000, Math.round((events * scale) / 10_000) * 10_000);

/** One fintrans-agent run of `yaml(dir)` until `sinks` drained `total`; `fromSpawn` starts the clock at agent start. */
export async function agentRun(name, yaml, total, sinks, { profileDir, fromSpawn = false, ageSink = sinks[0], timeoutMs = 600_000 } = {}) {
  const dir = workDir(name);
  const sys = await startAgentProcess(dir, yaml(dir), { profileDir, healthy: false });
  let ok = false;
  try {
    const r = await measureUntil({ pid: sys.pid, total, startedAt: fromSpawn ? sys.startingAt : undefined, timeoutMs, read: async () => agentCounters(await sys.status(), sinks) });
    const { counters: _, ...rest } = r;
    ok = true;
    return { ...rest, ...agentAges(await sys.status(), ageSink) };
  } catch (e) {
    throw new Error(`${e.message} (configuration and log kept in ${dir})`);
  } finally {
    await sys.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}

const kafkaSink = (topic, batch) => `{ type: kafka, channel: %CH%, bootstrapServers: ${brokers}, topic: ${topic}, acks: all, batchSize: ${batch} }`;

export const S3 = {
  id: 'S3', name: 'generator → Kafka sink (acks=all)', servers: ['kafka'], goal: '≥ 90% of ProducerPerformance',
  reference: `Kafka 3.9.2 ProducerPerformance (--record-size ${RECORD_SIZE}, acks=all, ${PARTITIONS} partitions)`,
  judge: (r) => r.ratio >= 0.9,
  async run({ runs, log, profileDir, scale, withReference }) {
    const total = count(500_000, scale);
    const topics = [];
    const topic = async () => {
      const t = `fintrans-bench-s3-${uid()}`;
      topics.push(t);
      await createTopic(t, PARTITIONS);
      return t;
    };
    let startupCpuSec = 0;
    if (withReference) startupCpuSec = (await producerPerformance({ topic: await topic(), records: 1, recordSize: RECORD_SIZE })).cpuSecWithStartup;
    try {
      const res = await interleave(
        runs,
        async () => {
          const t = await topic();
          const yaml = () => `agents:
  agent:
    sources:
      gen: { type: generator, schema: financial_transactions, rate: 0, count: ${total}, seed: 1, startTime: 1700000000000, batchSize: 1000, channels: [ch] }
    channels:
      ch: { type: memory, capacity: 100000, transactionCapacity: 1000 }
    sinks:
      out: ${kafkaSink(t, 1000).replace('%CH%', 'ch')}
`;
          return agentRun('S3-fintrans', yaml, total, ['out'], { profileDir, fromSpawn: true });
        },
        withReference && (async () => producerPerformance({ topic: await topic(), records: total, recordSize: RECORD_SIZE, startupCpuSec })),
        log,
      );
      return {
        events: total,
        fintrans: res.fintrans.length ? summarize(res.fintrans, 277) : null,
        reference: res.reference.length ? { name: this.reference, ...summarize(res.reference, RECORD_SIZE) } : null,
        errors: res.errors,
        notes: [
          'fintrans-agent: clock from agent start (before the producer connected) to the last record acknowledged; event age is source → acknowledged. ' +
          `ProducerPerformance: its own figures (send loop; age columns are its send → ack latency); its CPU excludes a 1-record run's ${startupCpuSec.toFixed(1)} s of JVM start-up.`,
        ],
      };
    } finally {
      await cleanup({ topics });
    }
  },
};

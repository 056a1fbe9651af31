/**
 * Flume compatibility: seed 003's two Flume configurations (test/fixtures/flume/, adapted only in paths and the
 * broker address) run unchanged against the real Kafka and HDFS of the server harness. Agent 1 ingests a spool
 * folder of Generator.py transactions into Kafka; agent 2 reads the topic and writes HDFS through the NameNode that
 * $HADOOP_CONF_DIR names. What lands in Kafka and in HDFS (read back through WebHDFS) must be exactly the input.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { WebHdfsClient } from '../plugins/sinks/hdfs/webhdfs-client.ts';
import { Sfc32 } from '../plugins/sources/generator/prng.ts';
import { BUILDERS } from '../plugins/sources/generator/schemas.ts';
import { countIds, createTopic, kafka, unique } from './helpers/kafka.ts';
import { cleanup, stat, tempDir, waitFor } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka', 'hdfs']);
const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'flume');
const hdfs = new WebHdfsClient({ namenodes: [endpoints.hdfs.webhdfs.replace(/\/webhdfs\/v1$/, '')], user: endpoints.hdfs.user, timeoutMs: 30_000 });
const RUN = unique('flume-compat');
const ROOT = `/fta-test/${RUN}`;

const dirs: string[] = [];
const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  dirs.forEach(cleanup);
  if (servers.ok) await hdfs.delete(ROOT, true).catch(() => undefined);
});

/** A fixture with some `key = value` lines replaced (this run's topic and HDFS folder), written into `dir`. */
function fixture(dir: string, name: string, values: Record<string, string>): string {
  let text = readFileSync(join(FIXTURES, name), 'utf8');
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^${key.replace(/\./g, '\\.')}\\s*=.*$`, 'm');
    expect(text).toMatch(line);
    text = text.replace(line, `${key} = ${value}`);
  }
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Generator.py's transactions, written the way Flume's spool rules ask: complete files moved in atomically. */
function spoolFiles(spool: string, files: number, perFile: number): string[] {
  mkdirSync(spool, { recursive: true });
  const rng = new Sfc32(3);
  const lines: string[] = [];
  for (let f = 0; f < files; f++) {
    const chunk = Array.from({ length: perFile }, (_, i) => BUILDERS.finance(rng, Date.UTC(2024, 10, 3, 23, f, i), 0).text);
    const name = `finance_transactions_20241103_23${String(f).padStart(2, '0')}00.json`;
    writeFileSync(join(spool, '..', `.${name}`), `${chunk.join('\n')}\n`);
    renameSync(join(spool, '..', `.${name}`), join(spool, name));
    lines.push(...chunk);
  }
  return lines;
}

/** Resolves once the consumer group has a member that was assigned `topic`. */
async function assigned(group: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(`group ${group} assigned ${topic}`, async () => {
      const [g] = (await admin.describeGroups([group])).groups;
      if (g?.state !== 'Stable') return false;
      return g.members.some((m) => topic in (kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}));
    }, 60_000);
  } finally {
    await admin.disconnect();
  }
}

async function readHdfsLines(dir: string): Promise<{ lines: string[]; inUse: string[] }> {
  const out = { lines: [] as string[], inUse: [] as string[] };
  for (const s of (await hdfs.list(dir)) ?? []) {
    const p = `${dir}/${s.pathSuffix}`;
    if (s.type === 'DIRECTORY') {
      const sub = await readHdfsLines(p);
      out.lines.push(...sub.lines);
      out.inUse.push(...sub.inUse);
    } else if (s.pathSuffix.endsWith('.tmp')) out.inUse.push(p);
    else out.lines.push(...(await hdfs.read(p)).toString('utf8').split('\n').filter(Boolean));
  }
  return out;
}

describe.skipIf(!servers.ok)('Flume compatibility (real Kafka and HDFS)', () => {
  it("runs seed 003's flumekafkaAgent.conf and kafka-flume-hdfs.conf unchanged, end to end, losing and duplicating nothing", async () => {
    const d = tempDir('fta-flume-compat-');
    dirs.push(d);
    const topic = `${RUN}-finance`;
    const conf1 = fixture(d, 'flumekafkaAgent.conf', { 'agent.sinks.kafka_sink.kafka.topic': topic });
    const conf2 = fixture(d, 'kafka-flume-hdfs.conf', { 'agent.sources.source1.kafka.topics': topic, 'agent.sinks.k1.hdfs.path': `${ROOT}/flume` });
    const env = { ...process.env, HADOOP_CONF_DIR: join(FIXTURES, 'hadoop-conf') };
    const start = async (conf: string) => {
      const a = await startAgent({ conf, name: 'agent', env, log: silentLogger(), metricsPort: false });
      agents.push(a);
      return a;
    };

    // The seed creates the topic first (its step 3). Flume's Kafka source starts a new group at the latest
    // offset, so the reading agent must hold its partition before anything is written.
    await createTopic(topic, 1);
    const reader = await start(conf2);
    await assigned('flume', topic);
    const input = spoolFiles(join(d, 'flumetst'), 4, 250);
    const writer = await start(conf1);

    await waitFor('1000 events into Kafka', () => stat(writer, 'kafka_sink', 'events_drained_total') >= input.length, 90_000);
    await waitFor('1000 events into HDFS', () => stat(reader, 'k1', 'events_drained_total') >= input.length, 90_000);
    await writer.stop();
    await reader.stop(); // rolls the open HDFS file to its final name

    // Flume's spool semantics: every file renamed with .COMPLETED once delivered.
    expect(readdirSync(join(d, 'flumetst')).filter((n) => !n.startsWith('.')).sort()).toEqual(
      ['00', '01', '02', '03'].map((m) => `finance_transactions_20241103_23${m}00.json.COMPLETED`),
    );
    // Kafka holds every line once, byte for byte (Flume's Kafka sink writes the body as it is).
    const inKafka = await countIds(topic, input.length, (v) => v);
    expect(inKafka.size).toBe(input.length);
    expect([...inKafka.keys()].sort()).toEqual([...input].sort());
    expect([...inKafka.values()].every((n) => n === 1)).toBe(true);
    // HDFS (through fs.defaultFS of $HADOOP_CONF_DIR) holds every line once, in order, and no file is left in use.
    const inHdfs = await readHdfsLines(`${ROOT}/flume`);
    expect(inHdfs.inUse).toEqual([]);
    expect(inHdfs.lines).toEqual(input);
    expect(stat(reader, 'source1', 'events_received_total')).toBe(input.length);
    expect(existsSync(join(d, 'flumetst', '.flumespool'))).toBe(true);
  });
});

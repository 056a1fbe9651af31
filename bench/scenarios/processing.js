// S5: Kafka → json-schema validation + aggregate + fraud → Kafka. No system runs beside it: the reference is the
// seeds' Spark figure, recorded as a number. Valid transactions go on to an output topic, the aggregates and the
// anomalies to their own topics; the clock runs from the first event consumed until the output sink acknowledged
// every transaction.
import { execFileSync } from 'node:child_process';
import { agentRun } from './kafka.js';
import { BROKERS, cleanup, createTopic, inputTopic } from '../kafka-tools.js';
import { interleave } from '../kit.js';
import { summarize } from '../measure.js';

const PARTITIONS = 3;
const BATCH = 1000;
const SPARK = 153_657;
const ROOT = new URL('../..', import.meta.url).pathname;
const SCHEMA = `${ROOT}conf/schemas/financial_transactions.schema.json`;
const uid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** The processor types the built agent knows (the bench runs dist/, so a plugin must be built to count). */
function processorTypes() {
  const out = execFileSync(process.execPath, [`${ROOT}bin/fintrans-agent.js`, 'plugins', '--json'], { encoding: 'utf8' });
  return JSON.parse(out).filter((p) => p.kind === 'processor').map((p) => p.type);
}

function yaml(input, group, topics) {
  const sink = (ch, topic) => `{ type: kafka, channel: ${ch}, bootstrapServers: ["${BROKERS[0]}"], topic: ${topic}, acks: all, batchSize: ${BATCH} }`;
  return () => `agents:
  agent:
    sources:
      src: { type: kafka, bootstrapServers: ["${BROKERS[0]}"], topics: [${input}], groupId: ${group}, startFrom: earliest, batchSize: ${BATCH}, processors: [validate, aggregate, fraud], channels: [ch] }
    processors:
      validate: { type: json-schema, schemaFile: ${SCHEMA} }
      aggregate:
        type: aggregate
        groupBy: [merchantId]
        window: { type: tumbling, size: 60s }
        timeField: transactionTime
        metrics: { totalAmount: { op: sum, field: amount }, txCount: { op: count } }
        emitTo: [agg]
      fraud:
        type: fraud
        emitTo: [anomalies]
        timeField: transactionTime
        rules:
          - { id: high-frequency, type: frequency, key: userId, window: 60s, threshold: 10 }
          - { id: big-ticket, type: threshold, field: amount, gt: 10000 }
    channels:
      ch: { type: memory, capacity: 100000, transactionCapacity: ${BATCH} }
      agg: { type: memory, capacity: 100000, transactionCapacity: ${BATCH} }
      anomalies: { type: memory, capacity: 100000, transactionCapacity: ${BATCH} }
      dlq: { type: memory, capacity: 100000, transactionCapacity: ${BATCH} }
    sinks:
      out: ${sink('ch', topics.out)}
      agg_out: ${sink('agg', topics.agg)}
      anomalies_out: ${sink('anomalies', topics.anomalies)}
      dead: { type: null, channel: dlq, batchSize: ${BATCH} }
    deadLetter: { channel: dlq }
`;
}

export const S5 = {
  id: 'S5', name: 'Kafka → validation + aggregate + fraud → Kafka', servers: ['kafka'], goal: '≥ 300k events/s',
  judge: (r) => r.fintrans.eventsPerSec >= 300_000,
  async run({ runs, log, profileDir, scale }) {
    const missing = ['aggregate', 'fraud'].filter((t) => !processorTypes().includes(t));
    if (missing.length) return { skipped: `processor${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} not registered in the built agent yet (agent/registry.ts, then npm run build); re-run with \`npm run bench -- S5\`` };
    const total = Math.max(10_000, Math.round((500_000 * scale) / 10_000) * 10_000);
    const input = await inputTopic(total, PARTITIONS, log);
    const made = { topics: [], groups: [] };
    try {
      const res = await interleave(runs, async () => {
        const id = uid();
        const topics = { out: `fintrans-bench-s5-out-${id}`, agg: `fintrans-bench-s5-agg-${id}`, anomalies: `fintrans-bench-s5-anomalies-${id}` };
        for (const t of Object.values(topics)) await createTopic(t, PARTITIONS), made.topics.push(t);
        made.groups.push(`fintrans-bench-s5-${id}`);
        return agentRun('S5-fintrans', yaml(input, made.groups.at(-1), topics), total, ['out'], { profileDir });
      }, null, log);
      return {
        events: total,
        fintrans: res.fintrans.length ? summarize(res.fintrans, 277) : null,
        reference: { name: "the seeds' Spark job (figure from the seeds, not run here)", eventsPerSec: SPARK },
        errors: res.errors,
        notes: [`${PARTITIONS} partitions in and out, batch size ${BATCH}. Every input transaction is valid, so the output sink drains all of them.`],
      };
    } finally {
      await cleanup(made);
    }
  },
};

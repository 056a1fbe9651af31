// S6a/S6b: spooldir → memory → Elasticsearch sink, and → InfluxDB sink. No reference system: the numbers are
// recorded so later changes can be compared. Each run writes into its own index / database, dropped afterwards;
// the server's document or point count is checked against the sink's counter.
import { agentAges, agentCounters, startAgentProcess } from '../agent-proc.js';
import { interleave, spoolSet } from '../kit.js';
import { summarize } from '../measure.js';
import { agentSpoolYaml, spoolRun } from './spool.js';

const BATCH = 5000; // Elasticsearch's guidance is bulk requests of a few MB: 5,000 × 277 B ≈ 1.4 MB
const ES = 'http://127.0.0.1:9200';
const INFLUX = 'http://127.0.0.1:8086';
const uid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const channel = `{ type: memory, capacity: 100000, transactionCapacity: ${BATCH} }`;

async function influxQuery(q, db) {
  const res = await fetch(`${INFLUX}/query?${new URLSearchParams({ q, ...(db ? { db } : {}) })}`, { method: 'POST' });
  return res.json();
}

function sinkScenario({ id, name, server, sink, setup, verify, teardown, warmup, notes }) {
  return {
    id, name, servers: [server], goal: 'record, then improve',
    async run({ runs, log, profileDir, scale }) {
      const set = await spoolSet(Math.max(100_000, Math.round((100_000 * scale) / 100_000) * 100_000));
      const checks = [];
      await warmup?.(set);
      const res = await interleave(runs, async () => {
        const target = `fintrans-bench-${id.toLowerCase()}-${uid()}`;
        await setup?.(target);
        try {
          const r = await spoolRun(`${id}-fintrans`, set, (dir) => startAgentProcess(dir, agentSpoolYaml(dir, channel, sink(target)), { profileDir }),
            (s) => agentCounters(s, ['out']), { extra: (s) => agentAges(s, 'out') });
          checks.push(await verify(target));
          return r;
        } finally {
          await teardown(target);
        }
      }, null, log);
      return {
        events: set.total,
        fintrans: res.fintrans.length ? summarize(res.fintrans, set.bytesPerEvent) : null,
        reference: null,
        errors: res.errors,
        notes: [`Batch size ${BATCH.toLocaleString('en-US')}. ${notes} Server-side count after each run: ${checks.join(', ')}.`],
      };
    },
  };
}

export const S6a = sinkScenario({
  id: 'S6a', name: 'spooldir → memory → Elasticsearch sink', server: 'elasticsearch',
  sink: (index) => `{ type: elasticsearch, channel: ch, nodes: ["${ES}"], index: ${index}, batchSize: ${BATCH}, template: { settings: { number_of_shards: 1, number_of_replicas: 0 } } }`,
  // A server started a moment ago takes seconds over its first bulk requests (index creation, JIT): pay that
  // before the clock runs, in a throw-away index.
  async warmup(set) {
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(set.files[0], 'utf8').split('\n', BATCH).flatMap((l) => ['{"index":{}}', l]).join('\n');
    for (let i = 0; i < 5; i++) await fetch(`${ES}/fintrans-bench-warmup/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${lines}\n` });
    await fetch(`${ES}/fintrans-bench-warmup`, { method: 'DELETE' });
  },
  async verify(index) {
    await fetch(`${ES}/${index}/_refresh`, { method: 'POST' });
    return (await (await fetch(`${ES}/${index}/_count`)).json()).count;
  },
  async teardown(index) {
    await fetch(`${ES}/${index}`, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${ES}/_index_template/${index}`, { method: 'DELETE' }).catch(() => undefined);
  },
  notes: 'Elasticsearch 8.19 (one node, 512 MB heap), documents without _id (Elasticsearch assigns them), the built-in financial_transactions mapping, 1 shard, 0 replicas.',
});

export const S6b = sinkScenario({
  id: 'S6b', name: 'spooldir → memory → InfluxDB sink', server: 'influxdb',
  sink: (db) => `{ type: influxdb, channel: ch, url: "${INFLUX}", api: v1, db: ${db.replaceAll('-', '_')}, measurement: transactions, tags: [currency, transactionType, paymentMethod], fields: [amount, userId, merchantId, location, isInternational, transactionId], timestampField: transactionTime, precision: ns, batchSize: ${BATCH} }`,
  setup: (db) => influxQuery(`CREATE DATABASE ${db.replaceAll('-', '_')}`),
  async verify(db) {
    const r = await influxQuery('SELECT count(amount) FROM transactions', db.replaceAll('-', '_'));
    return r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? JSON.stringify(r).slice(0, 200);
  },
  teardown: (db) => influxQuery(`DROP DATABASE ${db.replaceAll('-', '_')}`).catch(() => undefined),
  notes: 'InfluxDB 1.6 (v1 write API), 3 low-cardinality tags, 6 fields, the transaction time (epoch seconds) as point time; points of one series in the same second are kept apart by uniqueTimestamps (1 ns steps).',
});

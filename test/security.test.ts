/**
 * Kafka over TLS and SASL against the real broker's secured listeners (issue 9, security): mutual TLS on
 * endpoints.kafka.tls, SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 over TLS on endpoints.kafka.sasl. Every round
 * trip goes generator → kafka sink → broker → kafka source → file_roll inside one agent, and the records are
 * also counted on the plaintext listener by an independent consumer. The broker certificate is always verified
 * against the harness CA (rejectUnauthorized true). Wrong credentials and an untrusted broker must be reported
 * (metric errors_total by stage, LastError, the log) without crashing the agent, and no password may appear in
 * anything the agent logs nor in the broker's log.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../agent/log.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { serverDir } from '../servers/layout.ts';
import { keystorePassword } from '../servers/tls.ts';
import { countIds, createTopic, unique } from './helpers/kafka.ts';
import { cleanup, readLines, stat, tally, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';
import { endpoints, ensureServers } from './servers.ts';

const servers = await ensureServers(['kafka']);
const { tls, sasl } = endpoints.kafka;
const N = 3000;
const WRONG = 'wrong-Passw0rd-for-fta';

const dirs: string[] = [];
const agents: RunningAgent[] = [];
/** Everything the agent logged, as the JSON lines an operator would see. */
let logged: string[] = [];
const secrets = () => (servers.ok ? [readFileSync(sasl.plain.passwordFile, 'utf8').trim(), readFileSync(sasl.scram.passwordFile, 'utf8').trim(), WRONG] : []);
afterAll(() => dirs.forEach(cleanup));
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  const text = logged.join('');
  logged = [];
  for (const s of secrets()) expect(text.includes(s), 'a password appears in the agent log').toBe(false);
});

async function start(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<{ agent: RunningAgent; dir: string }> {
  const dir = tempDir('fta-security-');
  dirs.push(dir);
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString('utf8')), done()) });
  const agent = await startAgent({ conf: writeConfig(dir, yaml), env: { ...process.env, ...env }, log: createLogger({ level: 'info', destination: sink }), metricsPort: false });
  agents.push(agent);
  return { agent, dir };
}

const txId = (v: string) => (JSON.parse(v) as { transactionId: string }).transactionId;
const flow = (o: object) => JSON.stringify(o);
const errorsAt = (a: RunningAgent, component: string, stage: string) => a.metrics.components.find((c) => c.name === component)!.labelled.errors.get(stage) ?? 0;
const lastError = (a: RunningAgent, component: string) => a.metrics.components.find((c) => c.name === component)!.lastError ?? '';

/** One agent writing N generated records to `topic` over `connection` and reading them back over it. */
async function roundTrip(connection: object, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const topic = unique('secure');
  await createTopic(topic, 3);
  const { agent, dir } = await start(
    `agents:
  a:
    sources:
      g: { type: generator, count: ${N}, seed: 5, batchSize: 250, channels: [out] }
      kin: ${flow({ type: 'kafka', ...connection, topics: [topic], groupId: unique('g'), startFrom: 'earliest', batchSize: 500, channels: ['in'] })}
    channels: { out: { type: memory }, in: { type: memory } }
    sinks:
      kout: ${flow({ type: 'kafka', ...connection, channel: 'out', topic, batchSize: 500 })}
      files: { type: file_roll, channel: in, directory: ./out, rollInterval: 0 }
`,
    env,
  );
  await waitFor(`${N} records back from the broker`, () => stat(agent, 'files', 'events_drained_total') >= N, 90_000);
  expect(agent.agent.healthy()).toBe(true);
  const back = tally(readLines(join(dir, 'out'), true).map(txId));
  expect(back.size).toBe(N);
  expect([...back.values()].every((n) => n === 1)).toBe(true);
  // Counted independently on the plaintext listener: the records really are in the broker's topic.
  expect((await countIds(topic, N, txId)).size).toBe(N);
}

describe.skipIf(!servers.ok)('kafka security (real broker, secured listeners)', () => {
  it('round-trips over mutual TLS, the broker verified against the harness CA', async () => {
    await roundTrip({ bootstrapServers: tls.brokers, ssl: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, rejectUnauthorized: true } });
  });

  it('round-trips over SASL PLAIN (passwordFile) on TLS', async () => {
    await roundTrip({ bootstrapServers: sasl.brokers, ssl: { caFile: sasl.caFile }, sasl: { mechanism: 'plain', ...sasl.plain } });
  });

  it('round-trips over SASL SCRAM-SHA-512 (password from ${ENV}) on TLS', async () => {
    const password = readFileSync(sasl.scram.passwordFile, 'utf8').trim();
    await roundTrip(
      { bootstrapServers: sasl.brokers, ssl: { caFile: sasl.caFile }, sasl: { mechanism: 'scram-sha-512', username: sasl.scram.username, password: '${FTA_T_SCRAM_PASSWORD}' } },
      { FTA_T_SCRAM_PASSWORD: password },
    );
  });

  it('round-trips over SASL SCRAM-SHA-256 on TLS', async () => {
    await roundTrip({ bootstrapServers: sasl.brokers, ssl: { caFile: sasl.caFile }, sasl: { mechanism: 'scram-sha-256', ...sasl.scram } });
  });

  it.each([
    ['scram-sha-512', sasl.scram.username, /SASL SCRAM SHA512 authentication failed/],
    ['plain', sasl.plain.username, /SASL PLAIN authentication failed/],
  ])('wrong %s credentials: reported as an authentication error, the agent keeps running, no password logged', async (mechanism, username, message) => {
    const topic = unique('denied');
    const connection = { bootstrapServers: sasl.brokers, ssl: { caFile: sasl.caFile }, sasl: { mechanism, username, password: '${FTA_T_WRONG}' } };
    const { agent } = await start(
      `agents:
  a:
    shutdownTimeout: 1s # the sink never started: there is nothing to drain into
    sources:
      g: { type: generator, count: 100, seed: 1, channels: [out] }
      kin: ${flow({ type: 'kafka', ...connection, topics: [topic], groupId: unique('g'), channels: ['in'] })}
    channels: { out: { type: memory }, in: { type: memory } }
    sinks:
      kout: ${flow({ type: 'kafka', ...connection, channel: 'out', topic })}
      files: { type: logger, channel: in }
`,
      { FTA_T_WRONG: WRONG },
    );
    await waitFor('both kafka components failed', () => errorsAt(agent, 'kout', 'starting') > 0 && errorsAt(agent, 'kin', 'source') > 0, 60_000);
    expect(lastError(agent, 'kout')).toMatch(message);
    expect(lastError(agent, 'kin')).toMatch(message);
    expect(agent.agent.healthy()).toBe(false);
    expect(stat(agent, 'kout', 'events_drained_total')).toBe(0);
    const lines = logged.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; error?: string; level: string });
    expect(lines.some((l) => l.level === 'error' && l.msg.startsWith('Sink failed to start') && message.test(l.error ?? ''))).toBe(true);
    expect(lines.some((l) => l.level === 'error' && l.msg.startsWith('Source failed') && message.test(l.error ?? ''))).toBe(true);
  });

  it('refuses a broker whose certificate the configured CA did not sign, and a client without a certificate on mTLS', async () => {
    const topic = unique('untrusted');
    const { agent } = await start(
      `agents:
  a:
    shutdownTimeout: 1s # the sinks never started: there is nothing to drain into
    sources: { g: { type: generator, count: 100, seed: 1, channels: [a, b] } }
    channels: { a: { type: memory }, b: { type: memory } }
    sinks:
      systemCAs: ${flow({ type: 'kafka', channel: 'a', topic, bootstrapServers: sasl.brokers, ssl: true, sasl: { mechanism: 'plain', ...sasl.plain } })}
      noClientCert: ${flow({ type: 'kafka', channel: 'b', topic, bootstrapServers: tls.brokers, ssl: { caFile: tls.caFile } })}
`,
    );
    await waitFor('both sinks failed to start', () => errorsAt(agent, 'systemCAs', 'starting') > 0 && errorsAt(agent, 'noClientCert', 'starting') > 0, 60_000);
    expect(lastError(agent, 'systemCAs')).toMatch(/self[- ]signed certificate/);
    expect(lastError(agent, 'noClientCert')).toMatch(/certificate|SSL|ECONNRESET|alert/i);
    expect(stat(agent, 'systemCAs', 'events_drained_total') + stat(agent, 'noClientCert', 'events_drained_total')).toBe(0);
  });

  it('the broker log holds none of the SASL passwords nor the keystore password', () => {
    const logs = join(serverDir('kafka'), 'logs');
    const text = readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('');
    expect(text).toContain('SASL_SSL://127.0.0.1:9095');
    for (const s of [...secrets(), keystorePassword()]) expect(text.includes(s)).toBe(false);
  });
});

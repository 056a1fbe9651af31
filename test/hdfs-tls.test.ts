/**
 * The hdfs sink over WebHDFS with TLS (swebhdfs) against the harness's HDFS, which serves HTTPS beside HTTP: the
 * NameNode on NAMENODE_HTTPS_PORT redirects writes to the DataNode's HTTPS port, so both legs are verified against
 * the harness CA (servers/tls.ts). What the sink wrote is read back over the plain HTTP port, a path independent of
 * the one under test. Without the CA the sink must fail retriably, naming the certificate, and write nothing.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentError, Event } from '../agent/index.ts';
import { silentLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { testContext } from '../agent/testing/context.ts';
import { HdfsSink, type HdfsSinkConfig } from '../plugins/sinks/hdfs/sink.ts';
import { NAMENODE_HTTPS_PORT } from '../servers/hdfs.ts';
import { tlsFiles } from '../servers/tls.ts';
import { hdfs, linesOf, readTree } from './helpers/hdfs.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig, writeSpoolFile } from './helpers/pipeline.ts';
import { ensureServers } from './servers.ts';

const servers = await ensureServers(['hdfs']);
const SECURE_NAMENODE = `https://127.0.0.1:${NAMENODE_HTTPS_PORT}`;
const ROOT = `/fta-test/hdfs-tls-${process.pid}-${Date.now()}`;
const N = 2500;

const dirs: string[] = [];
afterAll(async () => {
  dirs.forEach(cleanup);
  if (servers.ok) await hdfs.delete(ROOT, true).catch(() => undefined);
});

/** The transactions writeSpoolFile puts in a file, as the sink must write them back. */
const expected = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ transactionId: `tx-${i}`, amount: (i % 1000) + 0.25, merchantId: `merchant_${i % 50}` }));

describe.skipIf(!servers.ok)('hdfs sink over HTTPS (swebhdfs, real HDFS)', () => {
  it('writes through the HTTPS NameNode and DataNode, trusting the CA given as tls.caFile, and every record reads back', async () => {
    const d = tempDir('fta-hdfs-tls-');
    dirs.push(d);
    // Relative to the config file, as an operator would ship it.
    mkdirSync(join(d, 'certs'));
    copyFileSync(tlsFiles.caCert, join(d, 'certs', 'ca.pem'));
    writeSpoolFile(join(d, 'spool'), 'tx.json', 0, N);
    const root = `${ROOT}/trusted`;
    const k1 = {
      type: 'hdfs', channel: 'c1', namenodes: [SECURE_NAMENODE], user: 'root', path: `${root}/%Y%m%d`, useLocalTimeStamp: true,
      fileSuffix: '.jsonl', batchSize: 500, tls: { caFile: './certs/ca.pem' },
    };
    const conf = writeConfig(d, `agents:
  agent:
    sources: { s1: { type: spooldir, spoolDir: ./spool, fileStableMs: 0, pollDelay: 50, batchSize: 500, channels: [c1] } }
    channels: { c1: { type: memory, capacity: 10000, transactionCapacity: 500 } }
    sinks:
      k1: ${JSON.stringify(k1)}
`);
    const agent = await startAgent({ conf, log: silentLogger(), metricsPort: false });
    try {
      await waitFor(`${N} events written over HTTPS`, () => stat(agent, 'k1', 'events_drained_total') >= N, 120_000);
    } finally {
      await agent.stop();
    }
    const tree = await readTree(root);
    expect(tree.inUse).toEqual([]);
    expect(tree.files.size).toBeGreaterThan(0);
    expect(linesOf(tree).sort()).toEqual(expected(N).sort());
  });

  it('without the CA, fails retriably naming the certificate problem and tls.caFile, and writes nothing', async () => {
    const root = `${ROOT}/untrusted`;
    const config: HdfsSinkConfig = {
      namenodes: [SECURE_NAMENODE], user: 'root', path: root, filePrefix: 'FlumeData', fileSuffix: '', inUsePrefix: '_', inUseSuffix: '.tmp',
      rollInterval: 30, rollSize: 0, rollCount: 0, idleTimeout: 0, batchSize: 100, fileType: 'DataStream', codeC: 'gzip', round: false,
      roundValue: 1, roundUnit: 'second', timeZone: 'UTC', useLocalTimeStamp: true, maxOpenFiles: 10, callTimeout: 10_000,
      tls: { rejectUnauthorized: true },
    };
    const sink = new HdfsSink(config, testContext('sink', 'hdfs'));
    const certificateFailure = { name: 'AgentError', retriable: true, message: expect.stringMatching(/certificate.*set tls\.caFile/i) };
    // start() lists the directory first (in-use files of an earlier run); the batch is the part that must not land.
    const started = await sink.start().catch((e: unknown) => e);
    expect(started).toBeInstanceOf(AgentError);
    expect(started).toMatchObject(certificateFailure);
    const written = await sink.write([Event.fromText('must-not-land-1'), Event.fromText('must-not-land-2')]).catch((e: unknown) => e);
    expect(written).toMatchObject(certificateFailure);
    await sink.stop();
    const tree = await readTree(root);
    expect([...tree.files.keys(), ...tree.inUse]).toEqual([]);
  });
});

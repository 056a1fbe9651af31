/**
 * Fault case 3: HDFS daemons stopped and restarted mid-stream. An agent (spooldir → file channel → hdfs) writes a
 * stream of input while first the NameNode, then the DataNode is stopped and started again. Writes fail and roll
 * back meanwhile; files an append failure may have touched are cut back to what HDFS acknowledged. At the end no
 * file is left under its in-use name, and every id is in HDFS exactly once (an HDFS failure duplicates nothing:
 * the sink redelivers a failed batch into a new file after cutting the old one back).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log.ts';
import { startAgent } from '../../agent/run.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig } from '../helpers/pipeline.ts';
import { endpoints, ensureServers, underCI } from '../servers.ts';
import { feedSpool } from './helpers/feed.ts';
import { hdfs, linesOf, NAMENODE, readTree, retrying } from '../helpers/hdfs.ts';
import { startHdfsDaemon, stopHdfsDaemon, type HdfsDaemon } from './helpers/outage.ts';
import { expectReconciled, idsOfLines, tally, txIds } from './helpers/reconcile.ts';

const servers = await ensureServers(['hdfs']);
const FILES = 40;
const PER_FILE = 500;
const TOTAL = FILES * PER_FILE;
const ROOT = `/fta-faults/hdfs-${process.pid}-${Date.now()}`;
const dir = tempDir('fta-faults-hdfs-');
afterAll(async () => {
  cleanup(dir);
  if (servers.ok) await retrying(() => hdfs.delete(ROOT, true)).catch(() => undefined);
});

describe.skipIf(!servers.ok)('HDFS NameNode and DataNode restarts (real HDFS)', () => {
  it('rolls back while a daemon is down, finalizes every file, and writes every id exactly once', async (t) => {
    const conf = writeConfig(
      dir,
      `agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], transactionCapacity: 1000 }
    sinks:
      k1: { type: hdfs, channel: wal, namenodes: ["${NAMENODE}"], user: ${endpoints.hdfs.user}, path: "${ROOT}", fileSuffix: .jsonl, rollCount: 4000, idleTimeout: 2, batchSize: 1000, callTimeout: 10000 }
`,
    );
    mkdirSync(join(dir, 'spool'), { recursive: true }); // before the agent, so its source finds it at once
    const agent = await startAgent({ conf, log: silentLogger(), metricsPort: false });
    const s = (metric: string) => stat(agent, 'k1', metric);
    const feed = feedSpool(join(dir, 'spool'), FILES, PER_FILE, 250);
    const notes: string[] = [];
    /** Stops the daemon until a write has failed, then starts it again (always: HDFS is shared). */
    const outage = async (daemon: HdfsDaemon) => {
      const failures = s('write_failures_total');
      const drained = s('events_drained_total');
      const t0 = Date.now();
      if (!(await stopHdfsDaemon(daemon))) return false;
      try {
        await waitFor(`a failed write while the ${daemon} is down`, () => s('write_failures_total') > failures, 60_000);
      } finally {
        await startHdfsDaemon(daemon);
      }
      notes.push(`${daemon} down ${Date.now() - t0} ms (stopped at ${drained} drained)`);
      return true;
    };
    try {
      await waitFor('3000 written', () => s('events_drained_total') >= 3000, 60_000);
      if (!(await outage('namenode'))) {
        // HDFS was started outside this checkout's harness, so its daemons cannot be stopped from here.
        if (underCI()) throw new Error('HDFS was not started by this checkout\'s harness: the restart case cannot run under CI');
        return t.skip();
      }
      const after = s('events_drained_total');
      await waitFor('3000 more written after the NameNode restart', () => s('events_drained_total') >= after + 3000, 120_000);
      expect(s('events_drained_total')).toBeLessThan(TOTAL); // the next restart is mid-stream too
      await outage('datanode');
      await feed.done;
      await waitFor('every event written', () => s('events_drained_total') >= TOTAL, 180_000);
      // A file whose append failed mid-way is cut back and renamed once HDFS lets go of the failed writer's lease.
      await waitFor('no in-use file left', async () => (await readTree(ROOT)).inUse.length === 0, 180_000);
    } finally {
      feed.stop();
      await agent.stop();
    }
    const tree = await readTree(ROOT);
    expect(tree.inUse).toEqual([]);
    for (const p of tree.files.keys()) expect(p).toMatch(/\/FlumeData\.\d{13}\.jsonl$/);
    const counts = tally(idsOfLines(linesOf(tree)));
    const [failures, abandoned, rolled] = ['write_failures_total', 'files_abandoned_total', 'files_rolled_total'].map(s);
    expectReconciled('HDFS NameNode + DataNode restarts', txIds(TOTAL), counts, 0, `${notes.join(', ')}; ${failures} failed writes, ${abandoned} files abandoned and cut back, ${rolled} files rolled, ${tree.files.size} final files`);
    expect(failures).toBeGreaterThanOrEqual(2);
  }, 420_000);
});

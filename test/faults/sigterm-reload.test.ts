/**
 * Fault case 7: a graceful stop (SIGTERM) and a configuration reload while the agent is busy. A real agent process
 * (spooldir → file channel → file_roll) gets input as a stream of spool files; it is stopped with SIGTERM three
 * times at different points and restarted, and every id is reconciled at the end: nothing lost, and a graceful
 * stop redelivers nothing. Then the configuration file is edited under load: an invalid save is refused while the
 * pipeline keeps running; a valid one (the sink moves to another directory, the file channel gets a new capacity)
 * applies without a restart, and nothing is lost across it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, readLines, tempDir, waitFor, writeConfig } from '../helpers/pipeline.ts';
import { killLeftovers, spawnAgent } from './helpers/agent-process.ts';
import { feedSpool } from './helpers/feed.ts';
import { expectReconciled, idsOfLines, tally, txIds } from './helpers/reconcile.ts';

const SOURCE_BATCH = 500;
const SINK_BATCH = 1000;
const dirs: string[] = [];
afterAll(async () => {
  await killLeftovers();
  dirs.forEach(cleanup);
});
const dir = (what: string) => {
  const d = tempDir(`fta-faults-${what}-`);
  dirs.push(d);
  return d;
};

const config = (out: string) => `metrics: { enabled: false }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: ${SOURCE_BATCH}, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], transactionCapacity: ${SINK_BATCH}, maxFileSize: 4194304 }
    sinks:
      out: { type: file_roll, channel: wal, directory: ./${out}, rollSize: 1000000, rollInterval: 0, batchSize: ${SINK_BATCH} }
`;

/** Distinct ids in the output directories, in-use files included (their torn last line, if any, skipped). */
const seen = (d: string, outs: string[]) => new Set(outs.flatMap((o) => idsOfLines(readLines(join(d, o), true)))).size;

describe('graceful stop and reload under load (agent process)', () => {
  it('SIGTERM under load, three times, then a restart: nothing lost, nothing redelivered', async () => {
    const d = dir('sigterm');
    const files = 40;
    const perFile = 2000;
    const total = files * perFile;
    const conf = writeConfig(d, config('out'));
    const feed = feedSpool(join(d, 'spool'), files, perFile, 100);
    const stops: number[] = [];
    try {
      for (const at of [0.15, 0.4, 0.65]) {
        const before = seen(d, ['out']);
        const agent = spawnAgent(conf);
        // The stop's drain may already have carried the output past the next mark: this run must deliver too.
        await waitFor('the agent started', () => agent.logs().includes('Agent started'), 60_000);
        await waitFor(`output past ${at * 100}% and this run delivering`, () => seen(d, ['out']) >= Math.max(at * total, before + 4000), 120_000);
        agent.child.kill('SIGTERM');
        const code = await agent.exited;
        if (code !== 0) console.log(agent.logs());
        expect(code).toBe(0);
        expect(agent.logs()).toContain('Agent stopped');
        stops.push(seen(d, ['out']));
        expect(stops.at(-1)!).toBeLessThan(total); // the stop really was mid-stream
      }
      await feed.done;
      const last = spawnAgent(conf);
      await waitFor('every id delivered', () => seen(d, ['out']) >= total, 120_000);
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
    } finally {
      feed.stop();
    }
    const counts = tally(idsOfLines(readLines(join(d, 'out'))));
    expectReconciled('SIGTERM under load x3', txIds(total), counts, 0, `stopped with ${stops.join(', ')} ids out`);
  });

  it('an edit of the configuration file under load applies without a restart; an invalid one is refused; nothing lost', async () => {
    const d = dir('reload');
    const files = 30;
    const perFile = 2000;
    const total = files * perFile;
    const conf = writeConfig(d, config('out-a'));
    const feed = feedSpool(join(d, 'spool'), files, perFile, 150);
    const agent = spawnAgent(conf);
    let exitedEarly = false;
    void agent.exited.then(() => (exitedEarly = true));
    try {
      await waitFor('output in out-a', () => seen(d, ['out-a']) >= total / 5, 120_000);
      // A broken save first: the agent says why, keeps its pipeline and keeps delivering.
      const valid = readFileSync(conf, 'utf8');
      writeFileSync(conf, valid.replace(`batchSize: ${SINK_BATCH} }`, 'batchSize: lots }'));
      await waitFor('the invalid edit refused', () => agent.logLines(/^The configuration is invalid/).length > 0, 30_000);
      const during = seen(d, ['out-a']);
      await waitFor('still delivering after the invalid edit', () => seen(d, ['out-a']) > during, 30_000);
      // Then a valid save: the sink writes to out-b, and the file channel (so also the source and sink wired to it)
      // is rebuilt with a larger capacity on the same directories. The agent notices it without a signal.
      writeFileSync(conf, valid.replace('directory: ./out-a', 'directory: ./out-b').replace(`transactionCapacity: ${SINK_BATCH},`, `transactionCapacity: ${SINK_BATCH}, capacity: 500000,`));
      await waitFor('the edit applied: output in out-b', () => seen(d, ['out-b']) > 0, 60_000);
      expect(agent.logLines(/^Configuration reloaded\.$/).length).toBeGreaterThan(0);
      expect(seen(d, ['out-a', 'out-b'])).toBeLessThan(total); // applied mid-stream
      await feed.done;
      await waitFor('every id delivered', () => seen(d, ['out-a', 'out-b']) >= total, 120_000);
      expect(exitedEarly).toBe(false); // one process throughout: reloaded, not restarted
    } finally {
      feed.stop();
      agent.child.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);
    const counts = tally(idsOfLines([...readLines(join(d, 'out-a')), ...readLines(join(d, 'out-b'))]));
    // Restarting the source and the sink may read their batches in flight once more.
    expectReconciled('hot reload under load (one invalid edit, one valid)', txIds(total), counts, SOURCE_BATCH + SINK_BATCH, `${seen(d, ['out-b'])} ids written after the reload`);
  });
});

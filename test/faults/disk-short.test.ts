/**
 * Fault case 5: the file channel's disk runs short. minimumRequiredSpace is set just below the free space of the
 * data directory's file system; a bounded filler file then takes that margin away mid-stream. Puts wait (gauge
 * disk_space_low, a retriable FTA_DISK_SPACE_LOW error naming minimumRequiredSpace, the source's
 * channel_write_failures_total), the sink keeps draining what the channel holds, nothing on disk is damaged, and
 * once the filler is deleted the agent resumes and delivers every event.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log.ts';
import { startAgent } from '../../agent/run.ts';
import { scanSegment } from '../../plugins/channels/file/record.ts';
import { cleanup, readLines, stat, tempDir, waitFor, writeConfig } from '../helpers/pipeline.ts';
import { sleep } from './helpers/agent-process.ts';
import { fill, freeBytes, type Filler } from './helpers/disk.ts';
import { feedSpool } from './helpers/feed.ts';
import { expectReconciled, idsOfLines, tally, txIds } from './helpers/reconcile.ts';

const FILES = 60;
const PER_FILE = 1000;
const TOTAL = FILES * PER_FILE;
const MIB = 1 << 20;
/** Free space the channel may use before it is "short": far more than this test writes (about 15 MiB). */
const MARGIN = 256 * MIB;
/** How far below minimumRequiredSpace the filler takes the free space. */
const SHORT_BY = 64 * MIB;
const dir = tempDir('fta-faults-disk-');
afterAll(() => cleanup(dir));

describe('file channel disk space short (minimumRequiredSpace)', () => {
  it('puts wait with a clear error and gauge while space is short, nothing is damaged, and the agent recovers', async () => {
    expect(freeBytes(dir), 'free space on the temp directory\'s file system').toBeGreaterThan(4 * MARGIN);
    const minimum = freeBytes(dir) - MARGIN;
    const conf = writeConfig(
      dir,
      `agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], transactionCapacity: 1000, minimumRequiredSpace: ${minimum}, keepAlive: 1 }
    sinks:
      out: { type: file_roll, channel: wal, directory: ./out, rollInterval: 0, batchSize: 1000 }
`,
    );
    const lines: string[] = [];
    const capture = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    mkdirSync(join(dir, 'spool'), { recursive: true }); // before the agent, so its source finds it at once
    const agent = await startAgent({ conf, log: createLogger({ level: 'debug', destination: capture }), metricsPort: false });
    const feed = feedSpool(join(dir, 'spool'), FILES, PER_FILE, 150);
    const s = (component: string, metric: string) => stat(agent, component, metric);
    let filler: Filler | undefined;
    let short: { accepted: number; failures: number; freeDuring: number };
    try {
      await waitFor('the first events delivered', () => s('out', 'events_drained_total') >= 5000, 60_000);
      expect(s('wal', 'disk_space_low')).toBe(0);
      filler = fill(dir, freeBytes(dir) - minimum + SHORT_BY, MARGIN + SHORT_BY + 512 * MIB);
      await waitFor('disk_space_low', () => s('wal', 'disk_space_low') === 1, 20_000);
      const freeDuring = freeBytes(dir);
      expect(freeDuring).toBeLessThan(minimum);
      // The source stops: nothing more is accepted while its puts fail and are retried, and the sink empties the
      // channel meanwhile (takes never need disk space).
      const accepted = s('spool', 'events_accepted_total');
      const failures = s('spool', 'channel_write_failures_total');
      await waitFor('two more failed puts', () => s('spool', 'channel_write_failures_total') >= failures + 2, 30_000);
      await waitFor('the channel drained', () => s('wal', 'size') === 0, 30_000);
      await sleep(1000);
      expect(s('spool', 'events_accepted_total')).toBe(accepted);
      expect(s('wal', 'disk_space_low')).toBe(1);
      expect(accepted).toBeLessThan(TOTAL);
      short = { accepted, failures: s('spool', 'channel_write_failures_total') - failures, freeDuring };
    } finally {
      filler?.remove();
    }
    try {
      await waitFor('disk_space_low cleared', () => s('wal', 'disk_space_low') === 0, 20_000);
      await feed.done;
      await waitFor('every event delivered', () => s('out', 'events_drained_total') >= TOTAL, 120_000);
    } finally {
      feed.stop();
      await agent.stop();
    }

    // The error says what is wrong and what to do; it is retriable, so the source retried it.
    const errors = lines.filter((l) => l.includes('FTA_DISK_SPACE_LOW') || l.includes('below minimumRequiredSpace'));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/free disk space \(\d+ bytes\) is below minimumRequiredSpace; puts wait until space is freed\. Free disk space or lower minimumRequiredSpace/);

    // Nothing on disk is damaged: every record left in the segments scans clean.
    const data = join(dir, 'wal', 'data');
    for (const seg of readdirSync(data).filter((n) => n.endsWith('.seg'))) {
      scanSegment(readFileSync(join(data, seg)), () => undefined, (d) => expect.fail(`${seg}: ${d.reason} at ${d.offset}`));
    }
    const counts = tally(idsOfLines(readLines(join(dir, 'out'))));
    expectReconciled('disk short', txIds(TOTAL), counts, 0, `puts refused ${short.failures} times while ${short.freeDuring} bytes were free (minimumRequiredSpace ${minimum}); ${short.accepted} events accepted before`);
  });
});

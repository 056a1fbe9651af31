/**
 * Fault case 6: file channel segments damaged on disk. A file channel is filled and closed; then one segment gets
 * a flipped byte inside a record and the last segment a torn tail (a record cut short, as a crash mid-write
 * leaves). A real agent process starts on those directories: it starts, delivers every intact record exactly once,
 * reports the two damaged records (metric and a log line naming the segment, offset and reason), and goes on
 * ingesting new input.
 */
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Event } from '../../agent/index.ts';
import { testContext } from '../../agent/testing/context.ts';
import type { Channel } from '../../agent/types.ts';
import file from '../../plugins/channels/file.ts';
import { decodePut, HEADER_SIZE, PUT, scanSegment, type ScannedRecord } from '../../plugins/channels/file/record.ts';
import { cleanup, readLines, tempDir, waitFor, writeConfig, writeSpoolFile } from '../helpers/pipeline.ts';
import { freePort, killLeftovers, num, spawnAgent, type Status, status } from './helpers/agent-process.ts';
import { expectReconciled, idsOfLines, tally, txIds } from './helpers/reconcile.ts';

const STORED = 30_000; // in the channel before the damage
const BATCH = 500; // events per put, so per PUT record
const LATER = 10_000; // spooled after the restart
const dir = tempDir('fta-faults-damage-');
afterAll(async () => {
  await killLeftovers();
  cleanup(dir);
});

/** The line test/helpers/pipeline.ts writeSpoolFile writes for id i. */
const line = (i: number) => JSON.stringify({ transactionId: `tx-${i}`, amount: (i % 1000) + 0.25, merchantId: `merchant_${i % 50}` });

/** Fills a file channel through the plugin itself (one PUT record per batch) and closes it. */
async function fillChannel(cp: string, data: string): Promise<void> {
  const ctx = testContext('channel', 'file', { name: 'wal', configDir: dir });
  const config = { checkpointDir: cp, dataDirs: [data], capacity: 100_000, transactionCapacity: 1000, maxFileSize: 1 << 20, minimumRequiredSpace: 0, fsync: 'commit', fsyncIntervalMs: 1000, keepAlive: 3, maxCachedEvents: 0 };
  const ch = (await file.create(config as never, ctx)) as Channel;
  await ch.start!();
  for (let b = 0; b < STORED; b += BATCH) {
    const tx = ch.beginPut();
    tx.put(Array.from({ length: BATCH }, (_, i) => Event.fromText(line(b + i))));
    await tx.commit();
  }
  await ch.stop!();
}

function records(path: string): ScannedRecord[] {
  const out: ScannedRecord[] = [];
  scanSegment(readFileSync(path), (r) => out.push(r), () => expect.fail(`${path} is damaged before the test damaged it`));
  return out.filter((r) => r.type === PUT);
}

const idsOf = (r: ScannedRecord) => decodePut(r.payload).events.map((e) => (e.data as { transactionId: string }).transactionId);

describe('file channel segments damaged on disk (agent process)', () => {
  it('starts, keeps every intact record, reports the torn tail and the flipped byte, and continues', async () => {
    const cp = join(dir, 'wal', 'cp');
    const data = join(dir, 'wal', 'data');
    await fillChannel(cp, data);
    const segments = readdirSync(data).filter((n) => n.endsWith('.seg')).sort().map((n) => join(data, n));
    expect(segments.length).toBeGreaterThanOrEqual(3);

    // A flipped byte in the middle of a record of the first segment: its payload checksum no longer matches.
    const first = segments[0]!;
    const flippedRec = records(first)[5]!;
    const buf = readFileSync(first);
    const at = flippedRec.offset + HEADER_SIZE + Math.floor((flippedRec.length - HEADER_SIZE) / 2);
    buf[at] = buf[at]! ^ 0x20;
    writeFileSync(first, buf);
    // A torn tail on the last segment: its last record cut in the middle, as a crash during the write leaves it.
    const last = segments.at(-1)!;
    const tornRec = records(last).at(-1)!;
    truncateSync(last, tornRec.offset + Math.floor(tornRec.length / 2));
    const damaged = new Set([...idsOf(flippedRec), ...idsOf(tornRec)]);
    expect(damaged.size).toBe(2 * BATCH);

    const port = await freePort();
    const conf = writeConfig(
      dir,
      `metrics: { port: ${port} }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: ${BATCH}, fileStableMs: 0, pollDelay: 50, channels: [wal] }
    channels:
      wal: { type: file, checkpointDir: ./wal/cp, dataDirs: [./wal/data], maxFileSize: 1048576, transactionCapacity: 1000 }
    sinks:
      out: { type: file_roll, channel: wal, directory: ./out, rollInterval: 0, batchSize: 1000 }
`,
    );
    const agent = spawnAgent(conf);
    const out = join(dir, 'out');
    const intact = txIds(STORED).filter((id) => !damaged.has(id));
    const expected = [...intact, ...txIds(LATER, STORED)];
    let snapshot: Status | undefined;
    try {
      await waitFor('the agent started', () => agent.logs().includes('Agent started'), 60_000);
      // New input after the damaged recovery: the agent goes on working.
      for (let f = 0; f < LATER / 2000; f++) writeSpoolFile(join(dir, 'spool'), `later-${f}.jsonl`, STORED + f * 2000, 2000);
      await waitFor('every intact and every new id delivered', () => new Set(idsOfLines(readLines(out, true))).size >= expected.length, 120_000);
      snapshot = await status(port);
    } finally {
      agent.child.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);

    expect(num(snapshot, 'CHANNEL.wal', 'checksum_failures_total')).toBe(2);
    const reports = agent.logLines(/Damaged record skipped|Torn tail cut/).map((l) => ({ segment: l.segment, offset: l.offset, reason: l.reason, level: l.level }));
    expect(reports).toEqual(
      expect.arrayContaining([
        { segment: first, offset: flippedRec.offset, reason: 'payload-checksum', level: 'warn' },
        { segment: last, offset: tornRec.offset, reason: 'torn-tail', level: 'warn' },
      ]),
    );
    expect(reports).toHaveLength(2);

    const counts = tally(idsOfLines(readLines(out)));
    for (const id of damaged) expect(counts.has(id), `${id} came from a damaged record`).toBe(false);
    // Nothing here is redelivered: a clean start and a graceful stop leave no duplicates.
    expectReconciled('segment damage (torn tail + flipped byte)', expected, counts, 0, `${damaged.size} events in the 2 damaged records reported, not delivered`);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

/**
 * End-to-end: real agents built from YAML, real files in, real files out.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../agent/log.ts';
import { PluginRegistry } from '../agent/registry.ts';
import { startAgent } from '../agent/run.ts';
import gateSink, { gate, openGate } from './fixtures/gate-sink.ts';
import { cleanup, readLines, start, stat, tally, tempDir, waitFor, writeConfig, writeSpoolFile } from './helpers/pipeline.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});

function spoolToFiles(dir: string, extra = ''): string {
  return writeConfig(
    dir,
    `
agents:
  agent:
    sources:
      spool:
        type: spooldir
        spoolDir: ./spool
        batchSize: 500
        fileStableMs: 50
        pollDelay: 50
        channels: [mem]
    channels:
      mem: { type: memory, capacity: 20000, transactionCapacity: 1000 }
      dlq: { type: memory, capacity: 20000, transactionCapacity: 1000 }
    sinks:
      out: { type: file_roll, channel: mem, directory: ./out, rollInterval: 0, batchSize: 1000 }
      dead: { type: file_roll, channel: dlq, directory: ./dead, rollInterval: 0, format: json-with-headers }
    deadLetter: { channel: dlq }
${extra}`,
  );
}

const idOf = (line: string) => (JSON.parse(line) as { transactionId: string }).transactionId;

describe('spooldir → memory → file_roll', () => {
  it('delivers exactly the input over 100k events', async () => {
    const dir = tempDir();
    dirs.push(dir);
    for (let f = 0; f < 10; f++) writeSpoolFile(join(dir, 'spool'), `tx-${f}.jsonl`, f * 10_000, 10_000);
    const agent = await start(spoolToFiles(dir));
    await waitFor('100k drained', () => stat(agent, 'out', 'events_drained_total') >= 100_000, 120_000);
    await agent.stop();
    const counts = tally(readLines(join(dir, 'out')).map(idOf));
    expect(counts.size).toBe(100_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (let i = 0; i < 100_000; i += 9973) expect(counts.get(`tx-${i}`)).toBe(1);
    expect(readdirSync(join(dir, 'spool')).filter((n) => n.endsWith('.COMPLETED'))).toHaveLength(10);
    expect(stat(agent, 'spool', 'events_accepted_total')).toBe(100_000);
    expect(stat(agent, 'mem', 'take_success_total')).toBe(100_000);
  });

  it('neither loses nor repeats a line across a clean stop and restart mid-stream', async () => {
    const dir = tempDir();
    dirs.push(dir);
    for (let f = 0; f < 6; f++) writeSpoolFile(join(dir, 'spool'), `tx-${f}.jsonl`, f * 20_000, 20_000);
    const conf = spoolToFiles(dir);
    const first = await start(conf);
    await waitFor('some progress', () => stat(first, 'out', 'events_drained_total') >= 15_000);
    await first.stop();
    const afterFirst = readLines(join(dir, 'out')).length;
    expect(afterFirst).toBeLessThan(120_000);
    const second = await start(conf);
    await waitFor('the rest', () => readLines(join(dir, 'out'), true).length >= 120_000, 120_000);
    await second.stop();
    const counts = tally(readLines(join(dir, 'out')).map(idOf));
    expect(counts.size).toBe(120_000);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
  });

  it('sends bad lines to dead letters with the reason and keeps the good ones flowing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeSpoolFile(join(dir, 'spool'), 'good.jsonl', 0, 100);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad.part'), '{"transactionId":"ok-1"}\n{not json\n\uFEFF{"x":\n' + Buffer.from([0xff, 0xfe, 0x0a]).toString('latin1') + '{"transactionId":"ok-2"}\r\n');
    (await import('node:fs')).renameSync(join(dir, 'bad.part'), join(dir, 'spool', 'bad.jsonl'));
    const agent = await start(spoolToFiles(dir));
    await waitFor('good lines', () => stat(agent, 'out', 'events_drained_total') >= 102);
    await waitFor('dead letters', () => stat(agent, 'dead', 'events_drained_total') >= 2);
    await agent.stop();
    const good = readLines(join(dir, 'out')).map(idOf);
    expect(good).toContain('ok-1');
    expect(good).toContain('ok-2');
    expect(good).toHaveLength(102);
    const dead = readLines(join(dir, 'dead')).map((l) => JSON.parse(l) as { headers: Record<string, string> });
    expect(dead.length).toBeGreaterThanOrEqual(2);
    for (const d of dead) {
      expect(d.headers['dl.component']).toBe('spool');
      expect(d.headers['dl.reason']).toMatch(/malformed-json|invalid-encoding/);
      expect(d.headers['dl.time']).toBeTruthy();
    }
  });
});

describe('backpressure', () => {
  it('a full channel pauses the source, stays within capacity, and delivers everything once the sink recovers', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeSpoolFile(join(dir, 'spool'), 'tx.jsonl', 0, 5000);
    const conf = writeConfig(
      dir,
      `
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 100, fileStableMs: 50, pollDelay: 50, channels: [mem] }
    channels:
      mem: { type: memory, capacity: 1000, transactionCapacity: 100, keepAlive: 0.1 }
    sinks:
      gate: { type: gate, channel: mem, batchSize: 100 }
`,
    );
    gate.open = false;
    gate.received.length = 0;
    const registry = new PluginRegistry();
    registry.register(gateSink);
    const agent = await startAgent({ conf, log: silentLogger(), metricsPort: 0, registry });
    await waitFor('channel-full retries', () => stat(agent, 'spool', 'channel_write_failures_total') >= 2);
    expect(stat(agent, 'mem', 'size')).toBeLessThanOrEqual(1000);
    expect(stat(agent, 'spool', 'events_accepted_total')).toBeLessThan(5000);
    openGate();
    await waitFor('all delivered', () => gate.received.length >= 5000);
    await agent.stop();
    expect(new Set(gate.received.map(idOf)).size).toBe(5000);
    expect(gate.received).toHaveLength(5000);
  });
});

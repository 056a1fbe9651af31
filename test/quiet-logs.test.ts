/**
 * "Normal operation logs nothing per event": the same pipeline run over 20x more events writes exactly the same
 * log lines (start, finish, stop), through the agent's real logger at its default level.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../agent/log.ts';
import { startAgent } from '../agent/run.ts';
import { cleanup, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';

const dir = tempDir('fta-quiet-logs-');
afterAll(() => cleanup(dir));

/** Runs generator → processors → memory → null over `count` events; returns every log line written. */
async function run(count: number): Promise<{ msg: string; level: string }[]> {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
  // Room for every event, so no backpressure warning makes the runs differ for a reason other than the count.
  const conf = writeConfig(
    dir,
    `metrics: { enabled: false }
agents:
  a:
    sources:
      gen: { type: generator, count: ${count}, rate: 0, seed: 1, batchSize: 100, channels: [c], processors: [ts, tag] }
    processors:
      ts: { type: timestamp }
      tag: { type: static, key: env, value: test }
    channels:
      c: { type: memory, capacity: ${count}, transactionCapacity: 100 }
    sinks:
      out: { type: null, channel: c, batchSize: 100 }
`,
    `agent-${count}.yaml`,
  );
  const agent = await startAgent({ conf, log: createLogger({ level: 'info', destination }), metricsPort: false, watch: false });
  await waitFor(`${count} events drained`, () => stat(agent, 'out', 'events_drained_total') >= count);
  await agent.stop();
  expect(stat(agent, 'out', 'events_drained_total')).toBe(count);
  return lines.map((l) => JSON.parse(l) as { msg: string; level: string });
}

describe('log volume', () => {
  it('does not grow with the number of events', async () => {
    const small = await run(1_000);
    const large = await run(20_000);
    // Not vacuous: the capture sees the agent's lifecycle lines.
    expect(small.map((l) => l.msg)).toEqual(expect.arrayContaining(['Agent started.', 'Agent stopped.']));
    expect(large.map((l) => l.msg).sort()).toEqual(small.map((l) => l.msg).sort());
    expect(large.length).toBeLessThan(20);
    expect(large.filter((l) => l.level !== 'info')).toEqual([]);
  });
});

/**
 * /health follows the components' real states: a file_roll sink that cannot create its directory makes it answer
 * 503 naming that sink, and once the directory can be created the sink's start retry brings it back to 200.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../agent/run.ts';
import { cleanup, readLines, start, stat, tempDir, waitFor, writeConfig } from './helpers/pipeline.ts';

const dir = tempDir('fta-health-');
let agent: RunningAgent | undefined;
afterAll(async () => {
  await agent?.stop();
  cleanup(dir);
});

async function health(): Promise<{ code: number; body: { status: string; down: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${agent!.metricsPort}/health`);
  return { code: res.status, body: (await res.json()) as { status: string; down: string[] } };
}

const componentState = () => agent!.metrics.components.find((c) => c.name === 'files')!.state;

describe('/health with a failing component', () => {
  it('answers 503 naming the sink that cannot start, and 200 once it has started', async () => {
    // A regular file where the sink's parent directory should be: mkdir fails with ENOTDIR, for root too.
    writeFileSync(join(dir, 'blocked'), 'not a directory');
    const conf = writeConfig(
      dir,
      `agents:
  a:
    sources:
      gen: { type: generator, count: 50, rate: 0, channels: [c] }
    channels:
      c: { type: memory }
    sinks:
      files: { type: file_roll, channel: c, directory: ./blocked/out, rollInterval: 0 }
`,
    );
    agent = await start(conf);
    // Until its first attempt fails the sink is "created" (also not running); wait for the failure itself.
    await waitFor('the sink to fail its start', () => componentState() === 'failed');
    const down = await health();
    expect(down.code).toBe(503);
    expect(down.body).toEqual({ status: 'DOWN', down: ['sink:files:failed'] });
    expect(agent.agent.healthy()).toBe(false);

    rmSync(join(dir, 'blocked'));
    await waitFor('the sink to start on a retry', async () => (await health()).code === 200);
    expect((await health()).body).toEqual({ status: 'UP', down: [] });
    await waitFor('50 events written', () => stat(agent!, 'files', 'events_drained_total') >= 50);
    await agent.stop();
    expect(readLines(join(dir, 'blocked', 'out'))).toHaveLength(50);
  });
});

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Event } from '../../agent/event.ts';
import { sinkCompliance } from '../../agent/testing/compliance.ts';
import { recordingProcessContext, testContext } from '../../agent/testing/context.ts';
import { silentLogger } from '../../agent/log.ts';
import { startAgent } from '../../agent/run.ts';
import { tempDir, waitFor } from '../../test/helpers/pipeline.ts';
// @ts-expect-error: plain JavaScript plugins, as a user would write them
import csvSink from './csv-sink.js';
// @ts-expect-error: plain JavaScript plugins, as a user would write them
import maskProcessor from './mask-processor.js';

const dir = tempDir('fta-example-');

describe('mask processor', () => {
  it('masks the listed fields and dead-letters bodies that are not JSON', () => {
    const p = maskProcessor.create({ fields: ['account'], keep: 2 }, testContext('processor', 'mask'));
    const ctx = recordingProcessContext('mask');
    const out = p.process([Event.fromData({ account: 'A123456', amount: 5 }), Event.fromText('nope')], ctx);
    expect(out[0].data).toEqual({ account: '*****56', amount: 5 });
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(['malformed-json']);
  });
});

const csvFile = join(dir, 'compliance.csv');
sinkCompliance(
  'csv (example)',
  async () => csvSink.create({ file: csvFile, columns: ['id'], batchSize: 100 }, testContext('sink', 'csv', { configDir: dir })),
  async () => readFileSync(csvFile, 'utf8').split('\n').filter(Boolean).map((id) => JSON.stringify({ id: Number(id) })),
);

describe('the example pipeline', () => {
  it('runs with both custom plugins loaded by path from the config', async () => {
    const out = join(dir, 'transfers.csv');
    rmSync(out, { force: true });
    const agent = await startAgent({ conf: join(import.meta.dirname, 'pipeline.yaml'), env: { ...process.env, CSV_OUT: out }, log: silentLogger(), metricsPort: false });
    await waitFor('1000 rows', () => agent.metrics.components.find((c) => c.name === 'csv')!.get('events_drained_total') >= 1000);
    await agent.stop();
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1000);
    for (const row of rows) expect(row).toMatch(/^[^,]+,\*+\d?,\*+\d?,[\d.]+$/);
  });
});

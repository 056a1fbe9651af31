/**
 * Every built-in sink and source passes the compliance suite of its kind (channels: see memory.test.ts).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { sinkCompliance, sourceCompliance } from '../agent/testing/compliance.ts';
import { testContext } from '../agent/testing/context.ts';
import { loadAndValidate } from '../agent/run.ts';
import { writeConfig } from './helpers/pipeline.ts';
import type { Event } from '../agent/event.ts';
import type { ComponentKind, PluginDefinition, Sink, Source } from '../agent/types.ts';
import { tempDir, writeSpoolFile } from './helpers/pipeline.ts';

const dir = tempDir('fta-compliance-');

/** Builds a component the way the agent does: validated, defaulted config through the plugin's factory. */
async function build<T>(kind: ComponentKind, type: string, body: Record<string, unknown>, log?: pino.Logger): Promise<T> {
  const section = { source: 'sources', sink: 'sinks', channel: 'channels', processor: 'processors' }[kind];
  const x = JSON.stringify({ type, ...(kind === 'source' ? { channels: ['c'] } : {}), ...(kind === 'sink' ? { channel: 'c' } : {}), ...body });
  const sinks = kind === 'sink' ? `{ drain: { type: null, channel: c }, x: ${x} }` : '{ drain: { type: null, channel: c } }';
  const yaml = `agents:\n  a:\n    channels: { c: { type: memory } }\n    sinks: ${sinks}\n${kind === 'sink' ? '' : `    ${section}:\n      x: ${x}\n`}`;
  const config = await loadAndValidate(writeConfig(dir, yaml, `${type}.yaml`));
  const c = config.agents.a![section as 'sources'].find((x) => x.name === 'x')!;
  return (await (c.def as PluginDefinition).create(c.config, { ...testContext(kind, type, { configDir: dir, log }), name: 'x' })) as T;
}

const out = join(dir, 'roll');
sinkCompliance(
  'file_roll',
  () => build<Sink>('sink', 'file_roll', { directory: out, rollSize: 20000 }),
  async () => readdirSync(out).filter((f) => !f.startsWith('.')).flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean)),
);

const logged: string[] = [];
const capture = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => (logged.push(...String(chunk).trim().split('\n')), cb()) }));
sinkCompliance(
  'logger',
  () => build<Sink>('sink', 'logger', { maxBytesToLog: 1000 }, capture),
  async () => logged.map((l) => JSON.parse(l).body as string),
);

sinkCompliance('null', () => build<Sink>('sink', 'null', {}), undefined);

const spool = join(dir, 'spool');
sourceCompliance(
  'spooldir',
  () => build<Source>('source', 'spooldir', { spoolDir: spool, fileStableMs: 20, pollDelay: 20, batchSize: 50 }),
  async (n) => {
    rmSync(spool, { recursive: true, force: true });
    mkdirSync(spool, { recursive: true });
    writeSpoolFile(spool, 'a.jsonl', 0, n / 2);
    writeSpoolFile(spool, 'b.jsonl', n / 2, n / 2);
  },
  (e: Event) => (e.data as { transactionId: string }).transactionId,
  { resumable: true },
);

sourceCompliance(
  'generator',
  () => build<Source>('source', 'generator', { count: 1000, batchSize: 100 }),
  async () => {},
  (e: Event) => (e.data as { transactionId: string }).transactionId,
);

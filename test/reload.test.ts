/**
 * Hot reload of the configuration through real agents: edits of the file while events flow, invalid edits, channels
 * that change with events queued, components that must not restart, and SIGHUP through the real command.
 */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginRegistry } from '../agent/registry.ts';
import { startAgent, type RunningAgent } from '../agent/run.ts';
import { definePlugin, type Event } from '../agent/index.ts';
import { componentStats } from '../agent/testing/agents.ts';
import { cleanup, readLines, stat, tally, tempDir, waitFor, writeConfig, writeSpoolFile } from './helpers/pipeline.ts';

const dirs: string[] = [];
const running: RunningAgent[] = [];
afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

function capture(): { log: Logger; lines: () => Record<string, any>[] } {
  const raw: string[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => void raw.push(s) }), lines: () => raw.map((l) => JSON.parse(l)) };
}

async function start(conf: string, o: { log?: Logger; registry?: PluginRegistry; watch?: boolean } = {}): Promise<RunningAgent> {
  const agent = await startAgent({ conf, log: o.log ?? pino({ level: 'silent' }), metricsPort: false, registry: o.registry, watch: o.watch });
  running.push(agent);
  return agent;
}

const gauge = (a: RunningAgent, name: string) => a.metrics.agentGauges.get(`fintrans_agent_${name}`)?.value;
const completed = (spool: string) => readdirSync(spool).filter((n) => n.endsWith('.COMPLETED')).length;
const bodyId = (line: string) => (JSON.parse(line) as { body: { transactionId: string } }).body.transactionId;

/** A sink whose start waits for `valve.open()` (a destination that is down), recording what it writes. */
const valve = { received: [] as string[], starts: new Map<string, number>(), open: () => {}, opened: Promise.resolve() };
function shutValve(): void {
  valve.received.length = 0;
  valve.starts.clear();
  valve.opened = new Promise((r) => (valve.open = r));
}
const valveSink = definePlugin({
  kind: 'sink',
  type: 'valve',
  description: 'Test sink: starts when the valve opens; counts its starts per name.',
  schema: { type: 'object', additionalProperties: false, properties: { batchSize: { type: 'integer', default: 100, description: 'Events per take.' } } },
  create: (_config, ctx) => ({
    async start() {
      valve.starts.set(ctx.name, (valve.starts.get(ctx.name) ?? 0) + 1);
      await valve.opened;
    },
    async write(events: readonly Event[]) {
      for (const e of events) valve.received.push((e.data as { transactionId: string }).transactionId);
    },
  }),
});
const registry = () => {
  const r = new PluginRegistry();
  r.register(valveSink);
  return r;
};

describe('hot reload under load: spooldir → file channel → file_roll', () => {
  const conf = (o: { rollSize?: number; batch?: number; tag?: string; second?: boolean }) => `
reload: { debounce: 100ms }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 500, fileStableMs: 50, pollDelay: 50, channels: [fc${o.second ? ', mem2' : ''}], processors: [tag] }
    processors:
      tag: { type: static, key: env, value: ${o.tag ?? 'v1'} }
    channels:
      fc: { type: file, capacity: 200000, transactionCapacity: 5000 }
${o.second ? '      mem2: { type: memory, capacity: 20000, transactionCapacity: 1000 }' : ''}
    sinks:
      out: { type: file_roll, channel: fc, directory: ./out, rollInterval: 0, rollSize: ${o.rollSize ?? 0}, batchSize: ${o.batch ?? 1000}, format: json-with-headers }
${o.second ? '      out2: { type: file_roll, channel: mem2, directory: ./out2, rollInterval: 0, batchSize: 1000, format: json-with-headers }' : ''}
`;

  it('applies four edits while 100k events flow: every event arrives, duplicates stay within one source batch per source restart, the file channel is never recreated', async () => {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    const spool = join(dir, 'spool');
    let files = 0;
    const more = (n: number) => {
      for (let i = 0; i < n; i++, files++) writeSpoolFile(spool, `tx-${String(files).padStart(2, '0')}.jsonl`, files * 10_000, 10_000);
    };
    more(10);
    const file = writeConfig(dir, conf({}));
    const { log, lines } = capture();
    const agent = await start(file, { log });
    const fc = agent.agent.channels.get('fc')!;
    const { inner, stats: fcStats } = fc;
    const fcStarted = fcStats.startTime;
    const sinkConfig = () => agent.config.agents.agent!.sinks.find((s) => s.name === 'out')!.config;
    let drained = 0;
    const progress = async () => {
      drained += 5000;
      await waitFor(`${drained} drained`, () => stat(agent, 'out', 'events_drained_total') >= drained);
    };
    const edit = async (o: Parameters<typeof conf>[0], applied: () => boolean) => {
      await progress();
      more(2); // input keeps arriving, so every edit lands under load however fast the machine is
      writeFileSync(file, conf(o));
      await waitFor('the edit applied', applied, 30_000);
      expect(completed(spool)).toBeLessThan(files); // still under load
    };

    const source0 = agent.agent.sources.get('spool');
    const out0 = agent.agent.sinks.get('out');
    await edit({ rollSize: 1_000_000 }, () => sinkConfig().rollSize === 1_000_000);
    expect(agent.agent.sinks.get('out')).not.toBe(out0);
    expect(agent.agent.sources.get('spool')).toBe(source0);

    await edit({ rollSize: 1_000_000, second: true }, () => agent.agent.sinks.has('out2'));
    expect(agent.agent.sources.get('spool')).not.toBe(source0);
    const out1 = agent.agent.sinks.get('out');

    await edit({ rollSize: 1_000_000, second: true, tag: 'v2' }, () => agent.config.agents.agent!.processors[0]!.config.value === 'v2');
    expect(agent.agent.sinks.get('out')).toBe(out1);

    await edit({ rollSize: 1_000_000, second: true, tag: 'v2', batch: 250 }, () => sinkConfig().batchSize === 250);
    await waitFor('every spool file read', () => completed(spool) === files, 120_000);
    await agent.stop();

    const out = readLines(join(dir, 'out'));
    const counts = tally(out.map(bodyId));
    expect(counts.size).toBe(files * 10_000);
    for (let i = 0; i < files * 10_000; i += 997) expect(counts.get(`tx-${i}`)).toBeGreaterThanOrEqual(1);
    const duplicates = out.length - counts.size;
    expect(duplicates).toBeLessThanOrEqual(2 * 500); // two edits restarted the source
    const envs = tally(out.map((l) => JSON.parse(l).headers.env));
    expect(envs.get('v1')).toBeGreaterThan(0);
    expect(envs.get('v2')).toBeGreaterThan(0);
    expect(readLines(join(dir, 'out2')).length).toBeGreaterThan(0);

    expect(agent.agent.channels.get('fc')).toBe(fc);
    expect(agent.agent.channels.get('fc')!.inner).toBe(inner);
    expect(componentStats(agent, 'fc', 'channel')).toBe(fcStats);
    expect(fcStats.startTime).toBe(fcStarted);
    expect(fcStats.get('take_success_total')).toBe(fcStats.get('put_success_total'));
    expect(gauge(agent, 'config_reloads_total')).toBe(4);
    expect(gauge(agent, 'config_reload_failures_total')).toBe(0);
    expect(gauge(agent, 'config_reload_failed')).toBe(0);
    const reloaded = lines().filter((l) => l.msg === 'Configuration reloaded.');
    expect(reloaded).toHaveLength(4);
    expect(reloaded.map((l) => l.restartedSources ?? [])).toEqual([[], ['spool'], ['spool'], []]);
    console.log(`reload under load: ${out.length - counts.size} duplicates; reload times ${reloaded.map((l) => `${l.ms} ms`).join(', ')}`);
  });
});

describe('an invalid edit', () => {
  const conf = (sink: string, channels = '[mem]') => `reload: { debounce: 300ms }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 100, fileStableMs: 50, pollDelay: 50, channels: ${channels} }
    channels:
      mem: { type: memory, capacity: 10000, transactionCapacity: 1000 }
    sinks:
      out: { type: file_roll, channel: mem, directory: ./out, rollInterval: 0, ${sink} }
`;

  it('keeps the pipeline running, logs every problem at its line, sets the gauge; a later valid edit (saved in two steps) applies and resets it', async () => {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    const spool = join(dir, 'spool');
    const file = writeConfig(dir, conf('batchSize: 100'));
    const { log, lines } = capture();
    const agent = await start(file, { log });
    writeSpoolFile(spool, 'a.jsonl', 0, 1000);
    await waitFor('first file delivered', () => stat(agent, 'out', 'events_drained_total') >= 1000);
    const source = agent.agent.sources.get('spool');
    const sink = agent.agent.sinks.get('out');

    const invalid = conf('batchSize: 100, rollSize: -1', '[mme]');
    writeFileSync(file, invalid);
    await waitFor('the reload failed', () => gauge(agent, 'config_reload_failures_total') === 1);
    expect(gauge(agent, 'config_reload_failed')).toBe(1);
    const lineOf = (text: string) => invalid.split('\n').findIndex((l) => l.includes(text)) + 1;
    const problems = lines().filter((l) => l.problem).map((l) => l.problem as string);
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith(`${file}:${lineOf('rollSize: -1')}:`) && p.includes('agents.agent.sinks.out.rollSize: must be >= 0'))).toBe(true);
    expect(problems.some((p) => p.startsWith(`${file}:${lineOf('[mme]')}:`) && p.includes('channel "mme" is not defined; did you mean "mem"?'))).toBe(true);
    expect(lines().some((l) => l.level === 50 && /keeps running its current pipeline/.test(l.msg))).toBe(true);

    writeSpoolFile(spool, 'b.jsonl', 1000, 1000);
    await waitFor('second file delivered after the invalid edit', () => stat(agent, 'out', 'events_drained_total') >= 2000);
    expect(agent.agent.sources.get('spool')).toBe(source);
    expect(agent.agent.sinks.get('out')).toBe(sink);

    const valid = conf('batchSize: 50');
    writeFileSync(file, valid.slice(0, valid.length / 2));
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(file, valid);
    await waitFor('the valid edit applied', () => agent.config.agents.agent!.sinks[0]!.config.batchSize === 50);
    expect(gauge(agent, 'config_reload_failed')).toBe(0);
    expect(gauge(agent, 'config_reloads_total')).toBe(2); // the half-written file was never read
    expect(gauge(agent, 'config_reload_failures_total')).toBe(1);
    writeSpoolFile(spool, 'c.jsonl', 2000, 1000);
    await waitFor('third file delivered', () => stat(agent, 'out', 'events_drained_total') >= 3000);
    expect(agent.agent.sources.get('spool')).toBe(source);
  });
});

describe('a changed channel keeps the events it holds', () => {
  const conf = (channel: string) => `reload: { watch: false }
agents:
  agent:
    sources:
      spool: { type: spooldir, spoolDir: ./spool, batchSize: 100, fileStableMs: 50, pollDelay: 50, channels: [ch] }
    channels:
      ch: ${channel}
    sinks:
      out: { type: valve, channel: ch, batchSize: 100 }
`;

  async function queued(channel: string): Promise<{ agent: RunningAgent; file: string; lines: () => Record<string, any>[] }> {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    shutValve();
    writeSpoolFile(join(dir, 'spool'), 'a.jsonl', 0, 3000);
    const file = writeConfig(dir, conf(channel));
    const { log, lines } = capture();
    const agent = await start(file, { log, registry: registry() });
    await waitFor('3000 queued, the file done', () => completed(join(dir, 'spool')) === 1 && agent.agent.channels.get('ch')!.size() === 3000);
    return { agent, file, lines };
  }

  it('memory: moves them, in order, into a smaller new channel once its sink runs', async () => {
    const { agent, file, lines } = await queued('{ type: memory, capacity: 5000, transactionCapacity: 100 }');
    const before = agent.agent.channels.get('ch')!;
    writeFileSync(file, conf('{ type: memory, capacity: 1000, transactionCapacity: 100 }'));
    const reload = agent.reload();
    setTimeout(() => valve.open(), 200);
    expect(await reload).toMatchObject({ status: 'applied' });
    await waitFor('all delivered', () => valve.received.length >= 3000);
    await agent.stop();
    expect(valve.received).toEqual(Array.from({ length: 3000 }, (_, i) => `tx-${i}`));
    const after = agent.agent.channels.get('ch')!;
    expect(after).not.toBe(before);
    expect(after.capacity).toBe(1000);
    expect(after.stats).toBe(before.stats); // metrics continue: moved events were put once and taken once
    expect(after.stats.get('put_success_total')).toBe(3000);
    expect(after.stats.get('take_success_total')).toBe(3000);
    expect(lines().find((l) => l.msg?.startsWith('Moved the events'))).toMatchObject({ channel: 'ch', events: 3000 });
    expect(valve.starts.get('out')).toBe(2);
  });

  it('file: closes it and re-opens the same directories, recovering the queue', async () => {
    const { agent, file, lines } = await queued('{ type: file, capacity: 5000, transactionCapacity: 100 }');
    const before = agent.agent.channels.get('ch')!;
    writeFileSync(file, conf('{ type: file, capacity: 4000, transactionCapacity: 100 }'));
    expect(await agent.reload()).toMatchObject({ status: 'applied' });
    const after = agent.agent.channels.get('ch')!;
    expect(after.inner).not.toBe(before.inner);
    expect(after.capacity).toBe(4000);
    expect(after.size()).toBe(3000);
    expect(lines().find((l) => l.msg === 'File channel recovered.')).toMatchObject({ events: 3000 });
    valve.open();
    await waitFor('all delivered', () => valve.received.length >= 3000);
    await agent.stop();
    expect(valve.received).toEqual(Array.from({ length: 3000 }, (_, i) => `tx-${i}`));
  });
});

describe('what does not change keeps running', () => {
  const conf = (k1Batch: number, second = true) => `reload: { watch: false }
agents:
  agent:
    sources:
      s1: { type: spooldir, spoolDir: ./s1, batchSize: 100, fileStableMs: 50, pollDelay: 50, channels: [c1] }
${second ? '      s2: { type: spooldir, spoolDir: ./s2, batchSize: 100, fileStableMs: 50, pollDelay: 50, channels: [c2], processors: [p] }' : ''}
${second ? '    processors:\n      p: { type: static, key: env, value: prod }' : ''}
    channels:
      c1: { type: memory, capacity: 10000, transactionCapacity: 1000 }
${second ? '      c2: { type: memory, capacity: 10000, transactionCapacity: 1000 }' : ''}
    sinks:
      k1: { type: valve, channel: c1, batchSize: ${k1Batch} }
${second ? '      k2: { type: valve, channel: c2 }' : ''}
`;

  it('restarts only the changed sink, and a removed pipeline\'s metrics disappear', async () => {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    shutValve();
    valve.open();
    writeSpoolFile(join(dir, 's1'), 'a.jsonl', 0, 1000);
    writeSpoolFile(join(dir, 's2'), 'a.jsonl', 1000, 1000);
    const file = writeConfig(dir, conf(100));
    const agent = await start(file, { registry: registry() });
    await waitFor('both delivered', () => valve.received.length >= 2000);
    const a = agent.agent;
    const snapshot = () => ({ s1: a.sources.get('s1'), s2: a.sources.get('s2'), p: a.processors.get('p'), c1: a.channels.get('c1'), c2: a.channels.get('c2'), k1: a.sinks.get('k1'), k2: a.sinks.get('k2') });
    const before = snapshot();
    const k1Stats = componentStats(agent, 'k1', 'sink');

    writeFileSync(file, conf(50));
    expect(await agent.reload()).toMatchObject({ status: 'applied', changes: { sinks: { changed: ['k1'] }, restartedSinks: ['sink:k1'] } });
    const after = snapshot();
    expect(after.k1).not.toBe(before.k1);
    expect({ ...after, k1: undefined }).toEqual({ ...before, k1: undefined });
    for (const k of ['s1', 's2', 'p', 'c1', 'c2', 'k2'] as const) expect(after[k]).toBe(before[k]);
    expect(Object.fromEntries(valve.starts)).toEqual({ k1: 2, k2: 1 });
    expect(componentStats(agent, 'k1', 'sink')).toBe(k1Stats);
    expect(k1Stats.get('events_drained_total')).toBe(1000);
    writeSpoolFile(join(dir, 's1'), 'b.jsonl', 2000, 500);
    await waitFor('delivered by the restarted sink', () => k1Stats.get('events_drained_total') >= 1500);

    writeFileSync(file, conf(50, false));
    expect(await agent.reload()).toMatchObject({ status: 'applied', changes: { sources: { removed: ['s2'] }, sinks: { removed: ['k2'] } } });
    expect(a.sinks.get('k1')).toBe(after.k1);
    expect(a.sources.get('s1')).toBe(before.s1);
    expect(agent.metrics.components.map((c) => c.name).sort()).toEqual(['c1', 'k1', 's1']);
    const text = await agent.metrics.prometheus();
    expect(text).toContain('component="k1"');
    for (const gone of ['s2', 'p', 'c2', 'k2']) expect(text).not.toContain(`component="${gone}"`);
  });
});

describe('what cannot be reloaded', () => {
  const conf = (o: { port?: number; agent?: string; priority?: number }) => `reload: { watch: false }
metrics: { port: ${o.port ?? 9464} }
agents:
  ${o.agent ?? 'agent'}:
    channels:
      c: { type: memory }
    sinks:
      k1: { type: null, channel: c }
      k2: { type: null, channel: c }
    sinkGroups:
      g: { sinks: [k1, k2], processor: { type: failover, priority: { k1: ${o.priority ?? 10}, k2: 5 } } }
`;

  it('a new metrics port waits for a restart (said, and gauged) while the rest applies; removing the running agent is refused', async () => {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    const file = writeConfig(dir, conf({}));
    const { log, lines } = capture();
    const agent = await start(file, { log });
    const group = agent.agent.sinkGroups.get('g');
    const k1 = componentStats(agent, 'k1', 'sink');

    writeFileSync(file, conf({ port: 9999, priority: 1 }));
    expect(await agent.reload()).toMatchObject({ status: 'applied', changes: { sinkGroups: { changed: ['g'] }, restartedSinks: ['group:g'] } });
    expect(gauge(agent, 'config_restart_required')).toBe(1);
    expect(lines().find((l) => l.level === 40 && l.settings)).toMatchObject({ settings: ['metrics'] });
    expect(agent.agent.sinkGroups.get('g')).not.toBe(group);
    expect(componentStats(agent, 'k1', 'sink')).toBe(k1);
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ Sinks: 'k1,k2', ActiveSinks: 'k2' });
    const active = (await agent.metrics.prometheus()).split('\n').filter((l) => l.startsWith('fintrans_sinkgroup_member_active{'));
    expect(active).toEqual([expect.stringMatching(/sink="k1"} 0$/), expect.stringMatching(/sink="k2"} 1$/)]);

    writeFileSync(file, conf({ agent: 'renamed' }));
    const refused = await agent.reload();
    expect(refused).toMatchObject({ status: 'failed' });
    expect(refused.status === 'failed' && refused.problems[0]).toMatch(/agent "agent" is no longer defined/);
    expect(gauge(agent, 'config_reload_failed')).toBe(1);
    expect(agent.agent.healthy()).toBe(true);
  });
});

describe('SIGHUP', () => {
  it('reloads the file in the running command (with the file watch off)', async () => {
    const dir = tempDir('fta-reload-');
    dirs.push(dir);
    const conf = (batch: number) => `reload: { watch: false }
metrics: { enabled: false }
agents:
  agent:
    channels:
      c: { type: memory }
    sinks:
      k: { type: null, channel: c, batchSize: ${batch} }
`;
    const file = writeConfig(dir, conf(10));
    const cli = resolve(import.meta.dirname, '..', 'agent', 'cli.ts');
    const script = `const { main } = await import(${JSON.stringify(cli)}); process.exitCode = await main(process.argv.slice(1));`;
    const child = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--input-type=module', '-e', script, '--', 'run', '--conf', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout!.on('data', (d) => (logs += d));
    child.stderr!.on('data', (d) => (logs += d));
    const exited = new Promise((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('started', () => logs.includes('Agent started.'), 30_000);
      writeFileSync(file, conf(20));
      child.kill('SIGHUP');
      await waitFor('reloaded', () => logs.includes('Configuration reloaded.'), 30_000);
      const line = logs.split('\n').find((l) => l.includes('Configuration reloaded.'))!;
      expect(JSON.parse(line)).toMatchObject({ reason: 'SIGHUP', sinks: { changed: ['k'] } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.ts';
import { validateConfig, type ResolvedAgent } from '../config/validate.ts';
import { PluginRegistry } from '../registry.ts';
import { definePlugin } from '../types.ts';
import { describePlan, isEmptyPlan, planReload } from './reload-plan.ts';

/** A processor that emits derived events to the channels named in emitTo (like fraud or aggregate). */
const emitter = definePlugin({
  kind: 'processor',
  type: 'emitter',
  description: 'test processor',
  schema: { type: 'object', properties: { emitTo: { type: 'array', items: { type: 'string' }, description: 'Channels.' } } },
  create: () => ({ process: (events) => events }),
});

async function agent(yaml: string): Promise<ResolvedAgent> {
  const registry = new PluginRegistry();
  registry.register(emitter);
  const config = await validateConfig(parseConfigText(yaml, join(tmpdir(), 'reload-plan.yaml'), {}), registry);
  return config.agents.a!;
}

/** Two independent pipelines (s1 → p1 → c1 → k1, s2 → c2 → k2), plus a dead-letter channel; `edit` rewrites parts. */
const base = (edit: Record<string, string> = {}) => `
agents:
  a:
    sources:
      s1: ${edit.s1 ?? '{ type: generator, channels: [c1], processors: [p1] }'}
      s2: ${edit.s2 ?? '{ type: generator, channels: [c2] }'}
    processors:
      p1: ${edit.p1 ?? '{ type: static, key: env, value: prod }'}
    channels:
      c1: ${edit.c1 ?? '{ type: memory, capacity: 1000 }'}
      c2: ${edit.c2 ?? '{ type: memory, capacity: 1000 }'}
      dlq: ${edit.dlq ?? '{ type: memory }'}
${edit.extraChannels ?? ''}
    sinks:
      k1: ${edit.k1 ?? '{ type: null, channel: c1 }'}
      k2: ${edit.k2 ?? '{ type: null, channel: c2 }'}
      kd: { type: null, channel: dlq }
${edit.extraSinks ?? ''}
    deadLetter: { channel: dlq }
${edit.extra ?? ''}`;

describe('reload plan', () => {
  it('is empty when nothing changed, even with defaults now written out', async () => {
    const plan = planReload(await agent(base()), await agent(base({ c1: '{ type: memory, capacity: 1000, keepAlive: 3 }' })));
    expect(isEmptyPlan(plan)).toBe(true);
    expect(plan.channels.unchanged).toEqual(['c1', 'c2', 'dlq']);
  });

  it('restarts only a changed sink, not its channel or the source feeding it', async () => {
    const plan = planReload(await agent(base()), await agent(base({ k1: '{ type: null, channel: c1, batchSize: 50 }' })));
    expect(plan.sinks.changed).toEqual(['k1']);
    expect(plan.stopUnits).toEqual(['sink:k1']);
    expect(plan.startUnits).toEqual(['sink:k1']);
    expect(plan.stopSources).toEqual([]);
    expect(plan.channels.changed).toEqual([]);
    expect(describePlan(plan)).toEqual({ sinks: { changed: ['k1'] }, restartedSinks: ['sink:k1'] });
  });

  it('restarts the sources and sinks wired to a recreated channel, and nothing of the other pipeline', async () => {
    const plan = planReload(await agent(base()), await agent(base({ c1: '{ type: memory, capacity: 5000 }' })));
    expect(plan.channels.changed).toEqual(['c1']);
    expect(plan.stopSources).toEqual(['s1']);
    expect(plan.startSources).toEqual(['s1']);
    expect(plan.stopUnits).toEqual(['sink:k1']);
    expect(plan.deadLetter).toBe(false);
  });

  it('restarts the sources that use a changed processor', async () => {
    const plan = planReload(await agent(base()), await agent(base({ p1: '{ type: static, key: env, value: test }' })));
    expect(plan.processors.changed).toEqual(['p1']);
    expect(plan.stopSources).toEqual(['s1']);
    expect(plan.stopUnits).toEqual([]);
  });

  it('restarts a source whose processor emits to a recreated channel', async () => {
    const fraud = '{ type: emitter, emitTo: [alerts] }';
    const extraChannels = '      alerts: { type: memory, capacity: 1000 }';
    const extraSinks = '      ka: { type: null, channel: alerts }';
    const before = base({ p1: fraud, extraChannels, extraSinks });
    const after = base({ p1: fraud, extraChannels: '      alerts: { type: memory, capacity: 2000 }', extraSinks });
    const plan = planReload(await agent(before), await agent(after));
    expect(plan.channels.changed).toEqual(['alerts']);
    expect(plan.processors.changed).toEqual([]);
    expect(plan.stopSources).toEqual(['s1']);
    expect(plan.stopUnits).toEqual(['sink:ka']);
  });

  it('restarts every source and sink when the dead-letter channel changes, but recreates only that channel', async () => {
    const plan = planReload(await agent(base()), await agent(base({ dlq: '{ type: memory, capacity: 2000 }' })));
    expect(plan.deadLetter).toBe(true);
    expect(plan.channels.changed).toEqual(['dlq']);
    expect(plan.stopSources.sort()).toEqual(['s1', 's2']);
    expect(plan.stopUnits.sort()).toEqual(['sink:k1', 'sink:k2', 'sink:kd']);
  });

  it('adds a sink on a new channel and restarts the source that now writes to it', async () => {
    const plan = planReload(
      await agent(base()),
      await agent(base({ s2: '{ type: generator, channels: [c2, c3] }', extraChannels: '      c3: { type: memory }', extraSinks: '      k3: { type: null, channel: c3 }' })),
    );
    expect(plan.channels.added).toEqual(['c3']);
    expect(plan.sinks.added).toEqual(['k3']);
    expect(plan.startUnits).toEqual(['sink:k3']);
    expect(plan.stopUnits).toEqual([]);
    expect(plan.stopSources).toEqual(['s2']);
  });

  it('restarts a sink group as one unit when one member changes', async () => {
    const group = (k3: string) =>
      base({ extraSinks: `      k3: { type: null, channel: c1${k3} }`, extra: '    sinkGroups:\n      g: { sinks: [k1, k3], processor: { type: failover } }' });
    const plan = planReload(await agent(group('')), await agent(group(', batchSize: 10')));
    expect(plan.sinks.changed).toEqual(['k3']);
    expect(plan.stopUnits).toEqual(['group:g']);
    expect(plan.startUnits).toEqual(['group:g']);
    expect(plan.stopSources).toEqual([]);
  });

  it('removes a source, its processor and its channel and sink, and reports agent settings applied live', async () => {
    const yaml = base().replace(/^ {6}s1:.*\n/m, '').replace(/^ {4}processors:\n.*\n/m, '').replace(/^ {6}c1:.*\n/m, '').replace(/^ {6}k1:.*\n/m, '');
    const plan = planReload(await agent(base()), await agent(`${yaml}    shutdownTimeout: 5s\n`));
    expect(plan.sources.removed).toEqual(['s1']);
    expect(plan.processors.removed).toEqual(['p1']);
    expect(plan.channels.removed).toEqual(['c1']);
    expect(plan.stopUnits).toEqual(['sink:k1']);
    expect(plan.startUnits).toEqual([]);
    expect(plan.stopSources).toEqual(['s1']);
    expect(plan.settings).toEqual(['shutdownTimeout']);
  });
});

/**
 * Sink groups through real in-process agents: failover on thrown and on retriable errors, recovery of the primary
 * after its penalty, round robin and random load balancing, backoff, dead letters, graceful drain, metrics and
 * /status; and the config errors, each located with file:line:col. The sinks are small fakes that fail on demand.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../agent/config/load.ts';
import { ConfigError, formatProblem } from '../agent/config/problems.ts';
import { validateConfig } from '../agent/config/validate.ts';
import { AgentError, ErrorCodes, Event, type PluginDefinition, type SourceRunContext } from '../agent/index.ts';
import type { RunningAgent } from '../agent/run.ts';
import { TestAgents, componentStats, waitFor } from '../agent/testing/agents.ts';

type Mode = 'ok' | 'throw' | 'retriable' | 'permanent';
interface FakeSink { mode: Mode; failNext: number; batches: number[][]; gate: Promise<void>; stops: number; up: boolean }
const sinks = new Map<string, FakeSink>();
const fake = (name: string) => sinks.get(name) ?? sinks.set(name, { mode: 'ok', failNext: 0, batches: [], gate: Promise.resolve(), stops: 0, up: true }).get(name)!;
const ids = (events: readonly Event[]) => events.map((e) => (e.data as { id: number }).id);

const flaky: PluginDefinition<'sink'> = {
  kind: 'sink',
  type: 'flaky',
  description: 'test sink that fails on demand',
  schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 10, description: 'Events per take.' } } },
  create: (_config, ctx) => {
    const s = fake(ctx.name);
    return {
      async start() {
        if (!s.up) throw new Error('destination down');
      },
      async write(events) {
        await s.gate;
        await new Promise((r) => setTimeout(r, 1)); // a real timer turn per batch, as a destination would take
        const mode = s.failNext > 0 ? (s.failNext--, 'retriable') : s.mode;
        if (mode === 'throw') throw new Error('connection refused');
        if (mode === 'retriable') throw new AgentError(ErrorCodes.SINK_WRITE, 'destination busy, try later', { retriable: true });
        if (mode === 'permanent') throw new AgentError(ErrorCodes.SINK_WRITE, 'mapping conflict', { retriable: false });
        s.batches.push(ids(events));
      },
      stop: async () => void s.stops++,
    };
  },
};

let emitter: SourceRunContext | undefined;
const manual: PluginDefinition<'source'> = {
  kind: 'source',
  type: 'manual',
  description: 'test source: the test emits through it',
  schema: { type: 'object', properties: {} },
  create: () => ({ run: (ctx) => ((emitter = ctx), new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()))) }),
};

const agents = new TestAgents();
beforeEach(() => sinks.clear());
afterEach(() => agents.stopAll());

/** An agent whose sinks k1..kn (flaky, batchSize 10) drain channel c, grouped by `processor`. */
async function start(processor: string, n = 2): Promise<RunningAgent> {
  const names = Array.from({ length: n }, (_, i) => `k${i + 1}`);
  emitter = undefined;
  const agent = await agents.start(
    `agents:
  a:
    sources:
      s: { type: manual, channels: [c] }
    channels:
      c: { type: memory, capacity: 10000, transactionCapacity: 100 }
      dlq: { type: memory }
    sinks:
${names.map((k) => `      ${k}: { type: flaky, channel: c }`).join('\n')}
      dead: { type: flaky, channel: dlq }
    sinkGroups:
      g: { sinks: [${names.join(', ')}], processor: ${processor} }
    deadLetter: { channel: dlq }
    shutdownTimeout: 10
`,
    [flaky, manual],
  );
  await waitFor('the source', () => emitter !== undefined);
  return agent;
}

let next = 0;
beforeEach(() => void (next = 0));
/** Emits `batches` batches of 10 new ids; each is one take of the group (batchSize 10). */
async function emit(batches = 1): Promise<void> {
  for (let b = 0; b < batches; b++) await emitter!.emit(Array.from({ length: 10 }, () => Event.fromData({ id: next++ })));
}
const delivered = (...names: string[]) => names.flatMap((k) => fake(k).batches.flat());
const stat = (a: RunningAgent, name: string, metric: string) => componentStats(a, name).get(metric);

/** Every id emitted so far was delivered exactly once across `names`. */
function exactlyOnce(...names: string[]): void {
  expect(delivered(...names).sort((x, y) => x - y)).toEqual(Array.from({ length: next }, (_, i) => i));
}

describe('failover sink group', () => {
  it('sends everything to the highest-priority sink and moves to the next when it throws, losing and duplicating nothing', async () => {
    const agent = await start('{ type: failover, priority: { k1: 5, k2: 10 } }');
    await emit(3);
    await waitFor('k2 writes', () => delivered('k2').length === 30);
    expect(fake('k1').batches).toEqual([]);
    fake('k2').mode = 'throw';
    await emit(5);
    await waitFor('k1 takes over', () => delivered('k1').length === 50);
    exactlyOnce('k1', 'k2');
    expect(stat(agent, 'k1', 'events_drained_total')).toBe(50);
    // k2 rests 1 s after its first failure; on a slow machine a recovery probe may have failed too.
    const failures = stat(agent, 'k2', 'write_failures_total');
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(stat(agent, 'k2', 'rollbacks_total')).toBe(10 * failures);
    const status = agent.metrics.status()['SINKGROUP.g']!;
    expect(status).toMatchObject({ Type: 'SINKGROUP', ProcessorType: 'failover', Sinks: 'k1,k2', ActiveSinks: 'k1', FailoverCount: String(failures), PenaltyCount: String(failures) });
    const prom = await agent.metrics.prometheus();
    expect(prom).toContain(`fintrans_sinkgroup_failovers_total{agent="a",group="g",type="failover"} ${failures}`);
    expect(prom).toContain('fintrans_sinkgroup_member_active{agent="a",group="g",type="failover",sink="k1"} 1');
    expect(prom).toContain('fintrans_sinkgroup_member_active{agent="a",group="g",type="failover",sink="k2"} 0');
    expect(prom).toContain(`fintrans_sinkgroup_penalties_total{agent="a",group="g",type="failover",sink="k2"} ${failures}`);
  });

  it('fails over from a sink that keeps returning retriable errors and returns to it after its penalty', async () => {
    const agent = await start('{ type: failover, priority: { k1: 10, k2: 5 }, maxPenalty: 50ms }');
    fake('k1').failNext = 3; // busy for three attempts: the first batch and two recovery probes
    await emit(1);
    await waitFor('the batch on k2', () => delivered('k2').length === 10);
    const traffic = setInterval(() => void emit(1), 20); // each recovery probe of k1 takes a batch
    await waitFor('k1 back as the active sink', () => agent.metrics.status()['SINKGROUP.g']!.ActiveSinks === 'k1').finally(() => clearInterval(traffic));
    await waitFor('everything delivered', () => delivered('k1', 'k2').length === next);
    const onK2 = delivered('k2').length;
    await emit(5);
    await waitFor('the new batches', () => delivered('k1', 'k2').length === next);
    expect(delivered('k2')).toHaveLength(onK2); // all new batches went to the primary again
    exactlyOnce('k1', 'k2');
    expect(stat(agent, 'k1', 'write_failures_total')).toBe(3);
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ FailoverCount: '3', PenaltyCount: '3', RestingSinks: '' });
  });

  it('rolls a batch back when every member fails and delivers it once one recovers', async () => {
    const agent = await start('{ type: failover, maxPenalty: 50ms }');
    fake('k1').mode = 'throw';
    fake('k2').mode = 'retriable';
    await emit(2);
    await waitFor('both members failing', () => stat(agent, 'k1', 'write_failures_total') >= 2 && stat(agent, 'k2', 'write_failures_total') >= 2);
    expect(delivered('k1', 'k2')).toEqual([]);
    fake('k2').mode = 'ok';
    await waitFor('delivery', () => delivered('k1', 'k2').length === 20);
    exactlyOnce('k1', 'k2');
    expect(delivered('k2')).toHaveLength(20);
    expect(stat(agent, 'c', 'size')).toBe(0);
  });

  it('lets the mates of a member that cannot start take its batches until it starts', async () => {
    fake('k1').up = false;
    const agent = await start('{ type: failover, priority: { k1: 10, k2: 5 } }');
    await emit(2);
    await waitFor('k2 writes', () => delivered('k2').length === 20);
    expect(componentStats(agent, 'k1').state).toBe('failed');
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ ActiveSinks: 'k2', FailoverCount: '0' });
    fake('k1').up = true;
    await waitFor('k1 started', () => componentStats(agent, 'k1').state === 'running');
    await emit(2);
    await waitFor('k1 writes', () => delivered('k1').length === 20);
    exactlyOnce('k1', 'k2');
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ ActiveSinks: 'k1' });
  });

  it('dead-letters a batch a member rejects for good, without failing over', async () => {
    const agent = await start('{ type: failover, priority: { k1: 10, k2: 5 } }');
    fake('k1').mode = 'permanent';
    await emit(1);
    await waitFor('dead letters', () => fake('dead').batches.flat().length === 10);
    expect(delivered('k2')).toEqual([]);
    expect(componentStats(agent, 'k1').labelled.deadLetters.get('sink-rejected')).toBe(10);
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ FailoverCount: '0', ActiveSinks: 'k1' });
  });
});

describe('load_balance sink group', () => {
  it('round robin spreads batches evenly over the members', async () => {
    await start('{ type: load_balance, selector: round_robin }', 3);
    await emit(30);
    await waitFor('delivery', () => delivered('k1', 'k2', 'k3').length === 300);
    expect(['k1', 'k2', 'k3'].map((k) => fake(k).batches.length)).toEqual([10, 10, 10]);
    exactlyOnce('k1', 'k2', 'k3');
  });

  it('random gives every member batches', async () => {
    await start('{ type: load_balance, selector: random }', 3);
    await emit(60);
    await waitFor('delivery', () => delivered('k1', 'k2', 'k3').length === 600);
    for (const k of ['k1', 'k2', 'k3']) expect(fake(k).batches.length).toBeGreaterThan(0);
    exactlyOnce('k1', 'k2', 'k3');
  });

  it('with backoff skips a failing member while it rests; the batch it failed goes to a mate', async () => {
    const agent = await start('{ type: load_balance, backoff: true, maxTimeOut: 30s }', 3);
    fake('k2').mode = 'throw';
    await emit(30);
    await waitFor('delivery', () => delivered('k1', 'k3').length === 300);
    exactlyOnce('k1', 'k3');
    // Offered once, then resting (1 s, doubling); without backoff it fails its turn 10 times (next test).
    const failures = stat(agent, 'k2', 'write_failures_total');
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(failures).toBeLessThanOrEqual(3);
    expect(stat(agent, 'k2', 'events_drain_attempts_total')).toBe(10 * failures);
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ PenaltyCount: String(failures), FailoverCount: String(failures) });
  });

  it('without backoff keeps offering a failing member its turn and hands each failed batch on', async () => {
    const agent = await start('{ type: load_balance }', 3);
    fake('k2').mode = 'throw';
    await emit(30);
    await waitFor('delivery', () => delivered('k1', 'k3').length === 300);
    expect(stat(agent, 'k2', 'write_failures_total')).toBe(10); // first in the order for every third batch
    exactlyOnce('k1', 'k3');
    expect(agent.metrics.status()['SINKGROUP.g']).toMatchObject({ PenaltyCount: '0', FailoverCount: '10', RestingSinks: '', ActiveSinks: 'k1,k2,k3' });
  });
});

describe('graceful stop through a group', () => {
  it('drains the shared channel through the members before stopping them', async () => {
    const agent = await start('{ type: load_balance }', 2);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    fake('k1').gate = gate;
    fake('k2').gate = gate;
    await emit(20);
    const stopping = agent.stop();
    open();
    await stopping;
    exactlyOnce('k1', 'k2');
    expect(delivered('k1', 'k2')).toHaveLength(200);
    expect([fake('k1').stops, fake('k2').stops]).toEqual([1, 1]);
    expect(stat(agent, 'c', 'size')).toBe(0);
    expect(componentStats(agent, 'k1').state).toBe('stopped');
  });
});

async function problems(yaml: string): Promise<string[]> {
  try {
    await validateConfig(parseConfigText(yaml, join('/tmp', 'groups.yaml'), {}));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map(formatProblem);
  }
}

describe('sink group configuration', () => {
  const conf = (groups: string, k2Channel = 'c1') => `agents:
  a:
    channels:
      c1: { type: memory }
      c2: { type: memory }
    sinks:
      primary: { type: null, channel: c1 }
      k2: { type: null, channel: ${k2Channel} }
      other: { type: null, channel: c2 }
    sinkGroups:
${groups}`;

  it('resolves a valid group with its processor defaults', async () => {
    const groups = async (text: string) => (await validateConfig(parseConfigText(conf(text), '/tmp/ok.yaml', {}))).agents.a!.sinkGroups;
    expect(await groups('      g: { sinks: [primary, k2], processor: { type: load_balance } }\n      h: { sinks: [other], processor: { type: failover, priority: { other: 1 } } }\n')).toEqual([
      { name: 'g', sinks: ['primary', 'k2'], type: 'load_balance', priority: {}, selector: 'round_robin', backoff: false, maxPenaltyMs: 30_000 },
      { name: 'h', sinks: ['other'], type: 'failover', priority: { other: 1 }, selector: 'round_robin', backoff: false, maxPenaltyMs: 30_000 },
    ]);
    expect(await groups('      g: { sinks: [primary, k2], processor: { type: load_balance, selector: random, backoff: true, maxTimeOut: 5s } }\n      h: { sinks: [other], processor: { type: failover, maxPenalty: 2500ms } }\n')).toMatchObject([
      { selector: 'random', backoff: true, maxPenaltyMs: 5000 },
      { type: 'failover', maxPenaltyMs: 2500 },
    ]);
  });

  it('locates an unknown member with a suggestion', async () => {
    const p = await problems(conf('      g: { sinks: [primary, primery2, k2], processor: { type: failover } }\n'));
    expect(p).toEqual([expect.stringMatching(/^\/tmp\/groups\.yaml:11:29 agents\.a\.sinkGroups\.g\.sinks\.1: sink "primery2" is not defined; did you mean "primary"\? Defined sinks: primary, k2, other\.$/)]);
  });

  it('locates a member that drains another channel than its mates', async () => {
    const p = await problems(conf('      g: { sinks: [primary, k2], processor: { type: failover } }\n', 'c2'));
    expect(p).toEqual([expect.stringMatching(/^\/tmp\/groups\.yaml:8:34 agents\.a\.sinks\.k2\.channel: sink "k2" drains channel "c2" but its group "g" drains "c1" \(the channel of "primary"\).*set channel: c1\.$/)]);
  });

  it('locates a sink listed in two groups', async () => {
    const p = await problems(conf('      g: { sinks: [primary, k2], processor: { type: failover } }\n      h: { sinks: [other, k2], processor: { type: failover } }\n', 'c1'));
    expect(p.join('\n')).toMatch(/groups\.yaml:12:\d+ agents\.a\.sinkGroups\.h\.sinks\.1: sink "k2" is already in group "g": a sink may belong to one group only/);
  });

  it('locates priority keys that name no member, duplicate priorities and keys of the other type', async () => {
    const p = await problems(conf(`      g:
        sinks: [primary, k2]
        processor:
          type: failover
          priority: { primari: 10, k2: 5, other: 5 }
          backoff: true
      h: { sinks: [other], processor: { type: load_balance, priority: { other: 1 }, maxPenalty: 5s } }
`));
    const all = p.join('\n');
    expect(all).toMatch(/groups\.yaml:15:32 agents\.a\.sinkGroups\.g\.processor\.priority\.primari: priority names sink "primari", which is not in group "g"; did you mean "primary"\? Members: primary, k2\./);
    expect(all).toMatch(/groups\.yaml:15:\d+ agents\.a\.sinkGroups\.g\.processor\.priority\.other: priority names sink "other", which is not in group "g"/);
    expect(all).toMatch(/groups\.yaml:15:\d+ agents\.a\.sinkGroups\.g\.processor\.priority\.other: priority 5 of "other" equals that of "k2": failover priorities must be unique/);
    expect(all).toMatch(/groups\.yaml:16:\d+ agents\.a\.sinkGroups\.g\.processor\.backoff: backoff applies to load_balance groups only: remove it, or use type: load_balance\./);
    expect(all).toMatch(/groups\.yaml:17:\d+ agents\.a\.sinkGroups\.h\.processor\.priority: priority applies to failover groups only/);
    expect(all).toMatch(/groups\.yaml:17:\d+ agents\.a\.sinkGroups\.h\.processor\.maxPenalty: maxPenalty applies to failover groups only: a load_balance group takes maxTimeOut, or use type: failover\./);
    expect(p).toHaveLength(6);
  });

  it('reports schema errors of a group: an unknown processor type, a bad duration, a non-integer priority', async () => {
    const p = await problems(conf('      g: { sinks: [primary, k2], processor: { type: failovr, maxPenalty: soon } }\n      h: { sinks: [other], processor: { type: failover, priority: { other: high } } }\n'));
    const all = p.join('\n');
    expect(all).toMatch(/groups\.yaml:11:\d+ agents\.a\.sinkGroups\.g\.processor\.type: .*failover/);
    expect(all).toMatch(/groups\.yaml:11:\d+ agents\.a\.sinkGroups\.g\.processor\.maxPenalty: invalid duration "soon"/);
    expect(all).toMatch(/groups\.yaml:12:\d+ agents\.a\.sinkGroups\.h\.processor\.priority\.other: must be integer/);
  });
});

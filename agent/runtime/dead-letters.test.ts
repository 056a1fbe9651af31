/**
 * Dead letters through real agents: without a deadLetter channel they are counted and logged; with one they
 * arrive there marked with the component, reason, time and detail.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { componentStats, TestAgents, waitFor } from '../testing/agents.ts';
import { Event } from '../event.ts';
import { createLogger } from '../log.ts';
import type { RunningAgent } from '../run.ts';
import type { Logger } from '../log.ts';
import type { PluginDefinition, Sink } from '../types.ts';
import { DeadLetters } from './dead-letters.ts';

const agents = new TestAgents();
afterEach(() => agents.stopAll());
const start = (yaml: string, defs: PluginDefinition[], log?: Logger) => agents.start(yaml, defs, log);


const stats = (a: RunningAgent, name: string) => componentStats(a, name);
const ev = (id: number, headers: Record<string, string> = {}) => Event.fromData({ id }, headers);
const LONG = 'x'.repeat(1500);

/** Emits 4 events (ids 1-4) and dead-letters two unreadable ones itself; the processor rejects id 2. */
const source: PluginDefinition<'source'> = {
  kind: 'source',
  type: 'dl-source',
  description: 'test source',
  schema: { type: 'object', properties: {} },
  create: () => ({
    async run(ctx) {
      ctx.deadLetter([ev(90, { file: 'a.jsonl' }), ev(91)], 'malformed-json', 'Unexpected token } in JSON');
      await ctx.emit([ev(1), ev(2, { bad: 'yes' }), ev(3), ev(4)]);
    },
  }),
};
const processor: PluginDefinition<'processor'> = {
  kind: 'processor',
  type: 'reject-bad',
  description: 'test processor',
  schema: { type: 'object', properties: {} },
  create: () => ({
    process(events, ctx) {
      for (const e of events) if (e.headers.bad) ctx.deadLetter(e, 'bad-amount', LONG);
      return events;
    },
  }),
};
function recorder(type: string) {
  const received: Event[] = [];
  const def: PluginDefinition<'sink'> = {
    kind: 'sink',
    type,
    description: 'test sink',
    schema: { type: 'object', properties: { batchSize: { type: 'integer', default: 10, description: 'Events per take.' } } },
    create: (): Sink => ({ write: async (events) => void received.push(...events) }),
  };
  return { received, def };
}

const base = `agents:
  a:
    sources:
      src: { type: dl-source, channels: [c], processors: [p] }
    processors:
      p: { type: reject-bad }
    channels:
      c: { type: memory }
    sinks:
      out: { type: rec, channel: c }
`;

describe('dead letters', () => {
  it('without a deadLetter channel: counts dropped events by reason on the rejecting component and logs them', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
    const out = recorder('rec');
    const agent = await start(base, [source, processor, out.def], createLogger({ level: 'info', destination: sink }));
    await waitFor('the good events', () => out.received.length >= 3);
    expect(out.received.map((e) => (e.data as { id: number }).id)).toEqual([1, 3, 4]);
    expect(stats(agent, 'src').labelled.dropped.get('malformed-json')).toBe(2);
    expect(stats(agent, 'src').get('read_failures_total')).toBe(2);
    expect(stats(agent, 'p').labelled.dropped.get('bad-amount')).toBe(1);
    expect(stats(agent, 'p').labelled.deadLetters.size).toBe(0);
    const text = await agent.metrics.prometheus();
    expect(text).toContain('fintrans_component_dropped_events_total{agent="a",component="src",kind="source",type="dl-source",reason="malformed-json"} 2');
    expect(text).toContain('fintrans_component_dropped_events_total{agent="a",component="p",kind="processor",type="reject-bad",reason="bad-amount"} 1');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('no deadLetter channel'));
    expect(logged).toHaveLength(2);
    expect(logged.find((l) => l.component === 'src')).toMatchObject({ level: 'warn', agent: 'a', reason: 'malformed-json', events: 2, detail: 'Unexpected token } in JSON' });
    expect(logged.find((l) => l.component === 'p')).toMatchObject({ level: 'warn', reason: 'bad-amount', events: 1 });
  });

  it('with a deadLetter channel: delivers marked copies there and counts them as dead letters', async () => {
    const out = recorder('rec');
    const dead = recorder('deadrec');
    const before = Date.now();
    const agent = await start(
      `${base}      dead: { type: deadrec, channel: dlq }
    deadLetter: { channel: dlq }
`.replace('      c: { type: memory }\n', '      c: { type: memory }\n      dlq: { type: memory }\n'),
      [source, processor, out.def, dead.def],
    );
    await waitFor('three dead letters', () => dead.received.length >= 3);
    await waitFor('the good events', () => out.received.length >= 3);
    const byId = new Map(dead.received.map((e) => [(e.data as { id: number }).id, e.headers]));
    expect([...byId.keys()].sort()).toEqual([2, 90, 91]);
    expect(byId.get(90)).toMatchObject({ file: 'a.jsonl', 'dl.component': 'src', 'dl.reason': 'malformed-json', 'dl.detail': 'Unexpected token } in JSON' });
    expect(byId.get(2)).toMatchObject({ bad: 'yes', 'dl.component': 'p', 'dl.reason': 'bad-amount' });
    expect(byId.get(2)!['dl.detail']).toBe(`${'x'.repeat(1000)}…`);
    for (const h of byId.values()) {
      const t = Date.parse(h['dl.time']!);
      expect(t).toBeGreaterThanOrEqual(before - 1000);
      expect(h['dl.time']).toBe(new Date(t).toISOString());
    }
    expect(stats(agent, 'src').labelled.deadLetters.get('malformed-json')).toBe(2);
    expect(stats(agent, 'p').labelled.deadLetters.get('bad-amount')).toBe(1);
    expect(stats(agent, 'src').labelled.dropped.size).toBe(0);
    expect(out.received.every((e) => !('dl.reason' in e.headers))).toBe(true);
  });
});

describe('DeadLetters.wrap', () => {
  it('marks copies and leaves the originals untouched; no dl.detail without a detail', () => {
    const original = ev(1, { k: 'v' });
    const [copy] = DeadLetters.wrap('comp', [{ event: original, reason: 'why' }]);
    expect(copy).not.toBe(original);
    expect(original.headers).toEqual({ k: 'v' });
    expect(copy!.headers).toMatchObject({ k: 'v', 'dl.component': 'comp', 'dl.reason': 'why' });
    expect('dl.detail' in copy!.headers).toBe(false);
    expect(copy!.data).toEqual({ id: 1 });
  });
});

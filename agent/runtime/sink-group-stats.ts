/**
 * A sink group's own metrics, beside its members' standard sink metrics (which keep counting each member's
 * writes, failures and rollbacks): which members take batches, how often a failed batch was handed to a mate, and
 * how often each member was sent to rest. Exported as `fintrans_sinkgroup_*` with agent, group and type labels,
 * and in /status as `SINKGROUP.<name>`.
 */
import type client from 'prom-client';
import type { MetricsRegistry } from '../metrics/registry.ts';

export class SinkGroupStats {
  /** Batches a member failed that the group handed to another member. */
  failovers = 0;
  /** Times each member was sent to rest (penalty box, or load_balance backoff). */
  readonly penalties: number[];
  /** Set by the runner: the member indexes taking batches now, and those resting now. */
  view: () => { active: number[]; resting: number[] } = () => ({ active: [], resting: [] });

  constructor(
    readonly agent: string,
    readonly name: string,
    readonly type: string,
    readonly members: readonly string[],
  ) {
    this.penalties = members.map(() => 0);
  }
}

const groups = new WeakMap<MetricsRegistry, Set<SinkGroupStats>>();

type Sample = { labels: Record<string, string>; value: number };

function family(registry: client.Registry, name: string, help: string, type: 'counter' | 'gauge', values: () => Sample[]): void {
  registry.registerMetric({ name, help, type, get: () => ({ name, help, type, aggregator: 'sum', values: values() }) } as unknown as client.Metric);
}

function registerFamilies(registry: client.Registry, set: Set<SinkGroupStats>): void {
  const labels = (g: SinkGroupStats, sink?: string) => ({ agent: g.agent, group: g.name, type: g.type, ...(sink === undefined ? {} : { sink }) });
  const perMember = (value: (g: SinkGroupStats, i: number) => number) => () => [...set].flatMap((g) => g.members.map((m, i) => ({ labels: labels(g, m), value: value(g, i) })));
  family(registry, 'fintrans_sinkgroup_member_active', '1 while the member takes the group\'s batches (failover: the active member only), 0 otherwise.', 'gauge', perMember((g, i) => (g.view().active.includes(i) ? 1 : 0)));
  family(registry, 'fintrans_sinkgroup_member_resting', '1 while the member rests after failures (penalty box, or load_balance backoff), 0 otherwise.', 'gauge', perMember((g, i) => (g.view().resting.includes(i) ? 1 : 0)));
  family(registry, 'fintrans_sinkgroup_penalties_total', 'Times the member was sent to rest after a failed batch.', 'counter', perMember((g, i) => g.penalties[i]!));
  family(registry, 'fintrans_sinkgroup_failovers_total', 'Batches a member failed that the group handed to another member.', 'counter', () => [...set].map((g) => ({ labels: labels(g), value: g.failovers })));
}

function status(g: SinkGroupStats): Record<string, string> {
  const { active, resting } = g.view();
  const names = (list: number[]) => list.map((i) => g.members[i]).join(',');
  return {
    Type: 'SINKGROUP',
    ProcessorType: g.type,
    Sinks: g.members.join(','),
    ActiveSinks: names(active),
    RestingSinks: names(resting),
    FailoverCount: String(g.failovers),
    PenaltyCount: String(g.penalties.reduce((a, b) => a + b, 0)),
  };
}

/** Exports the group's metrics through the agent's registry (the metric families once per registry). */
export function registerSinkGroup(metrics: MetricsRegistry, g: SinkGroupStats): void {
  let set = groups.get(metrics);
  if (!set) {
    set = new Set();
    groups.set(metrics, set);
    registerFamilies(metrics.registry, set);
  }
  set.add(g);
  metrics.statusEntries.set(`SINKGROUP.${g.name}`, () => status(g));
}

export function unregisterSinkGroup(metrics: MetricsRegistry, g: SinkGroupStats): void {
  groups.get(metrics)?.delete(g);
  metrics.statusEntries.delete(`SINKGROUP.${g.name}`);
}

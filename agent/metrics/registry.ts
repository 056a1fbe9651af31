/**
 * Turns the agent's ComponentStats into Prometheus text (through prom-client, with the process's default metrics)
 * and into Flume's HTTP-monitoring JSON shape for /status.
 */
import client from 'prom-client';
import type { ComponentKind } from '../types.ts';
import type { Histogram } from './histogram.ts';
import { ComponentStats, STANDARD_METRICS } from './stats.ts';

const FLUME_TYPE: Record<ComponentKind, string> = { source: 'SOURCE', channel: 'CHANNEL', sink: 'SINK', processor: 'PROCESSOR' };

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

export class MetricsRegistry {
  readonly components: ComponentStats[] = [];
  readonly registry = new client.Registry();
  private readonly registered = new Set<string>();
  /** Agent-level gauges and counters (config reloads), by full metric name. */
  readonly agentGauges = new Map<string, { help: string; value: number }>();
  /** /status entries beside the components', by Flume-style key (sink groups: `SINKGROUP.<name>`). */
  readonly statusEntries = new Map<string, () => Record<string, string>>();

  constructor(collectDefault = true) {
    if (collectDefault) client.collectDefaultMetrics({ register: this.registry, prefix: 'fintrans_process_' });
  }

  component(agent: string, name: string, kind: ComponentKind, type: string): ComponentStats {
    const stats = new ComponentStats(agent, name, kind, type);
    this.components.push(stats);
    this.registerKind(kind, stats);
    return stats;
  }

  remove(stats: ComponentStats): void {
    const i = this.components.indexOf(stats);
    if (i >= 0) this.components.splice(i, 1);
  }

  private labels(s: ComponentStats, extra: Record<string, string> = {}) {
    return { agent: s.agent, component: s.name, kind: s.kind, type: s.type, ...extra };
  }

  /** Registers one prom-client metric object per metric name; each reads every component of the kind on scrape. */
  private registerKind(kind: ComponentKind, stats: ComponentStats): void {
    for (const [name, { help, type }] of stats.help) this.registerSimple(kind, name, help, type);
    // Plugins define their own metrics while being built, after this registration.
    stats.onDefine = (name, help, type) => this.registerSimple(kind, name, help, type);
    stats.onHistogram = (name, help) => this.registerHistogram(name, help, (s) => (s.kind === kind ? s.histograms.get(name)?.h : undefined), `fintrans_${kind}_${name}`);
    this.registerLabelled('errors_total', 'Errors by stage.', 'stage', (s) => s.labelled.errors);
    this.registerLabelled('dead_letters_total', 'Events sent to dead letters, by reason.', 'reason', (s) => s.labelled.deadLetters);
    this.registerLabelled('dropped_events_total', 'Events dropped, by reason (filtered, or rejected with no dead-letter channel).', 'reason', (s) => s.labelled.dropped);
    this.registerHistogram('batch_duration_seconds', 'Time to process or write one batch.', (s) => s.batchDuration);
    this.registerHistogram('event_age_seconds', 'End-to-end age of events when the sink delivered them.', (s) => (s.kind === 'sink' ? s.eventAge : undefined));
    this.registerUp();
  }

  private registerSimple(kind: ComponentKind, name: string, help: string, type: 'counter' | 'gauge'): void {
    const full = `fintrans_${kind}_${name}`;
    if (this.registered.has(full)) return;
    this.registered.add(full);
    this.registry.registerMetric({
      name: full,
      help,
      type,
      get: () => ({
        name: full,
        help,
        type,
        aggregator: 'sum',
        values: this.components.filter((s) => s.kind === kind && s.help.has(name)).map((s) => ({ labels: this.labels(s), value: s.get(name) })),
      }),
    } as unknown as client.Metric);
  }

  private registerLabelled(name: string, help: string, label: string, pick: (s: ComponentStats) => Map<string, number>): void {
    const full = `fintrans_component_${name}`;
    if (this.registered.has(full)) return;
    this.registered.add(full);
    this.registry.registerMetric({
      name: full,
      help,
      type: 'counter',
      get: () => {
        const values: Value[] = [];
        for (const s of this.components) for (const [k, v] of pick(s)) values.push({ labels: this.labels(s, { [label]: k }), value: v });
        return { name: full, help, type: 'counter', aggregator: 'sum', values };
      },
    } as unknown as client.Metric);
  }

  private registerHistogram(name: string, help: string, pick: (s: ComponentStats) => Histogram | undefined, fullName?: string): void {
    const full = fullName ?? `fintrans_component_${name}`;
    if (this.registered.has(full)) return;
    this.registered.add(full);
    this.registry.registerMetric({
      name: full,
      help,
      type: 'histogram',
      get: () => {
        const values: Value[] = [];
        for (const s of this.components) {
          const h = pick(s);
          if (!h) continue;
          const labels = this.labels(s);
          const cum = h.cumulative();
          h.buckets.forEach((le, i) => values.push({ labels: { ...labels, le }, value: cum[i]!, metricName: `${full}_bucket` }));
          values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${full}_bucket` });
          values.push({ labels, value: h.sum, metricName: `${full}_sum` });
          values.push({ labels, value: h.count, metricName: `${full}_count` });
        }
        return { name: full, help, type: 'histogram', aggregator: 'sum', values };
      },
    } as unknown as client.Metric);
  }

  private registerUp(): void {
    const full = 'fintrans_component_up';
    if (this.registered.has(full)) return;
    this.registered.add(full);
    this.registry.registerMetric({
      name: full,
      help: '1 while the component is running, 0 otherwise.',
      type: 'gauge',
      get: () => ({
        name: full,
        help: '1 while the component is running, 0 otherwise.',
        type: 'gauge',
        aggregator: 'sum',
        values: this.components.map((s) => ({ labels: this.labels(s), value: s.state === 'running' || s.state === 'completed' ? 1 : 0 })),
      }),
    } as unknown as client.Metric);
  }

  /** An agent-level gauge, e.g. `config_reload_failed`. */
  agentGauge(name: string, help: string, agent: string): { set(v: number): void } {
    const entry = this.agentMetric(name, help, agent, 'gauge');
    return { set: (v) => void (entry.value = v) };
  }

  /** An agent-level counter, e.g. `config_reloads_total`. */
  agentCounter(name: string, help: string, agent: string): { inc(n?: number): void } {
    const entry = this.agentMetric(name, help, agent, 'counter');
    return { inc: (n = 1) => void (entry.value += n) };
  }

  private agentMetric(name: string, help: string, agent: string, type: 'gauge' | 'counter'): { help: string; value: number } {
    const full = `fintrans_agent_${name}`;
    const entry = this.agentGauges.get(full) ?? { help, value: 0 };
    this.agentGauges.set(full, entry);
    if (!this.registered.has(full)) {
      this.registered.add(full);
      this.registry.registerMetric({
        name: full,
        help,
        type,
        get: () => ({ name: full, help, type, aggregator: 'sum', values: [{ labels: { agent }, value: entry.value }] }),
      } as unknown as client.Metric);
    }
    return entry;
  }

  async prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Flume's /metrics JSON: `{ "CHANNEL.c1": { "ChannelSize": "0", ... } }`, values as strings, plus this agent's
   * extra fields (state, errors, dead letters, age quantiles) under their own names.
   */
  status(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const s of this.components) {
      const entry: Record<string, string> = { Type: FLUME_TYPE[s.kind], ComponentType: s.type, State: s.state };
      entry.StartTime = String(s.startTime);
      entry.StopTime = String(s.stopTime);
      for (const m of STANDARD_METRICS[s.kind]) {
        if (m.flume) entry[m.flume] = String(s.get(m.name));
      }
      if (s.kind === 'channel') entry.ChannelFillPercentage = String(s.get('fill_ratio') * 100);
      for (const [name] of s.help) if (!STANDARD_METRICS[s.kind].some((m) => m.name === name)) entry[name] = String(s.get(name));
      let errors = 0;
      for (const v of s.labelled.errors.values()) errors += v;
      let dead = 0;
      for (const v of s.labelled.deadLetters.values()) dead += v;
      let dropped = 0;
      for (const v of s.labelled.dropped.values()) dropped += v;
      entry.ErrorCount = String(errors);
      entry.DeadLetterCount = String(dead);
      entry.DroppedCount = String(dropped);
      if (s.kind === 'sink') {
        entry.EventAgeP50Ms = String(s.eventAge.quantile(0.5) * 1000);
        entry.EventAgeP99Ms = String(s.eventAge.quantile(0.99) * 1000);
      }
      if (s.lastError) entry.LastError = s.lastError;
      out[`${FLUME_TYPE[s.kind]}.${s.name}`] = entry;
    }
    for (const [key, read] of this.statusEntries) out[key] = read();
    return out;
  }
}

import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './registry.ts';
import { STANDARD_METRICS } from './stats.ts';

const labels = (component: string, kind: string, type: string, agent = 'ag') => `{agent="${agent}",component="${component}",kind="${kind}",type="${type}"}`;
/** The value of one series line in Prometheus text, or undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('MetricsRegistry.prometheus', () => {
  it('exports every standard series of a new component at zero, with agent/component/kind/type labels', async () => {
    const m = new MetricsRegistry(false);
    for (const kind of ['source', 'channel', 'sink', 'processor'] as const) m.component('ag', `my_${kind}`, kind, `t_${kind}`);
    const text = await m.prometheus();
    for (const kind of ['source', 'sink', 'processor'] as const) {
      for (const metric of STANDARD_METRICS[kind]) {
        expect(value(text, `fintrans_${kind}_${metric.name}${labels(`my_${kind}`, kind, `t_${kind}`)}`), metric.name).toBe(0);
      }
    }
    for (const name of ['put_attempts_total', 'put_success_total', 'take_attempts_total', 'take_success_total']) {
      expect(value(text, `fintrans_channel_${name}${labels('my_channel', 'channel', 't_channel')}`)).toBe(0);
    }
    expect(text).toContain('# TYPE fintrans_source_events_received_total counter');
    expect(text).toContain('# TYPE fintrans_channel_size gauge');
    expect(value(text, `fintrans_component_batch_duration_seconds_count${labels('my_sink', 'sink', 't_sink')}`)).toBe(0);
    expect(value(text, `fintrans_component_event_age_seconds_count${labels('my_sink', 'sink', 't_sink')}`)).toBe(0);
    expect(value(text, `fintrans_component_event_age_seconds_count${labels('my_source', 'source', 't_source')}`)).toBeUndefined();
    expect(value(text, `fintrans_component_up${labels('my_sink', 'sink', 't_sink')}`)).toBe(0);
  });

  it('reads live values: counters, probes, labelled counters and the up gauge', async () => {
    const m = new MetricsRegistry(false);
    const src = m.component('ag', 's', 'source', 'gen');
    const ch = m.component('ag', 'c', 'channel', 'memory');
    let size = 4;
    ch.probes.set('size', () => size);
    src.add('events_received_total', 7);
    src.error('source', 'boom');
    src.deadLettered('malformed-json', 2);
    src.droppedEvents('filtered', 5);
    src.state = 'running';
    size = 9;
    const text = await m.prometheus();
    expect(value(text, `fintrans_source_events_received_total${labels('s', 'source', 'gen')}`)).toBe(7);
    expect(value(text, `fintrans_channel_size${labels('c', 'channel', 'memory')}`)).toBe(9);
    expect(value(text, 'fintrans_component_errors_total{agent="ag",component="s",kind="source",type="gen",stage="source"}')).toBe(1);
    expect(value(text, 'fintrans_component_dead_letters_total{agent="ag",component="s",kind="source",type="gen",reason="malformed-json"}')).toBe(2);
    expect(value(text, 'fintrans_component_dropped_events_total{agent="ag",component="s",kind="source",type="gen",reason="filtered"}')).toBe(5);
    expect(value(text, `fintrans_component_up${labels('s', 'source', 'gen')}`)).toBe(1);
    expect(value(text, `fintrans_component_up${labels('c', 'channel', 'memory')}`)).toBe(0);
  });

  it('exports plugin counters, gauges and histograms defined after the component was registered', async () => {
    const m = new MetricsRegistry(false);
    const sink = m.component('ag', 'k', 'sink', 'kafka');
    const reconnects = sink.counter('reconnects_total', 'Reconnects to the broker.');
    const lag = sink.gauge('inflight_requests', 'Requests in flight.');
    const flush = sink.histogram('flush_seconds', 'Flush latency.', [0.1, 1]);
    reconnects.inc();
    reconnects.inc(2);
    lag.set(5);
    lag.inc();
    flush.observe(0.05);
    flush.observe(0.5);
    flush.observe(3);
    sink.add('custom_events_total', 4); // an undeclared counter is defined on first use
    const text = await m.prometheus();
    const l = labels('k', 'sink', 'kafka');
    expect(text).toContain('# HELP fintrans_sink_reconnects_total Reconnects to the broker.');
    expect(value(text, `fintrans_sink_reconnects_total${l}`)).toBe(3);
    expect(text).toContain('# TYPE fintrans_sink_inflight_requests gauge');
    expect(value(text, `fintrans_sink_inflight_requests${l}`)).toBe(6);
    expect(value(text, `fintrans_sink_custom_events_total${l}`)).toBe(4);
    expect(text).toContain('# TYPE fintrans_sink_flush_seconds histogram');
    expect(value(text, 'fintrans_sink_flush_seconds_bucket{agent="ag",component="k",kind="sink",type="kafka",le="0.1"}')).toBe(1);
    expect(value(text, 'fintrans_sink_flush_seconds_bucket{agent="ag",component="k",kind="sink",type="kafka",le="1"}')).toBe(2);
    expect(value(text, 'fintrans_sink_flush_seconds_bucket{agent="ag",component="k",kind="sink",type="kafka",le="+Inf"}')).toBe(3);
    expect(value(text, `fintrans_sink_flush_seconds_count${l}`)).toBe(3);
    expect(value(text, `fintrans_sink_flush_seconds_sum${l}`)).toBeCloseTo(3.55);
  });

  it('keeps two agents apart by the agent label and drops removed components', async () => {
    const m = new MetricsRegistry(false);
    const a = m.component('one', 's', 'source', 'gen');
    const b = m.component('two', 's', 'source', 'gen');
    a.add('events_received_total', 1);
    b.add('events_received_total', 2);
    m.remove(a);
    const text = await m.prometheus();
    expect(value(text, `fintrans_source_events_received_total${labels('s', 'source', 'gen', 'two')}`)).toBe(2);
    expect(value(text, `fintrans_source_events_received_total${labels('s', 'source', 'gen', 'one')}`)).toBeUndefined();
  });
});

describe('MetricsRegistry.status', () => {
  it("uses Flume's component keys and counter names, with values as strings", () => {
    const m = new MetricsRegistry(false);
    const ch = m.component('ag', 'c1', 'channel', 'memory');
    ch.probes.set('size', () => 25);
    ch.probes.set('capacity', () => 100);
    ch.probes.set('fill_ratio', () => 0.25);
    ch.add('put_success_total', 30);
    ch.state = 'running';
    const src = m.component('ag', 'r1', 'source', 'spooldir');
    src.add('events_accepted_total', 12);
    src.error('source', 'disk gone');
    const sink = m.component('ag', 'k1', 'sink', 'null');
    sink.add('events_drained_total', 3);
    sink.deadLettered('sink-rejected', 2);
    const status = m.status();
    expect(Object.keys(status).sort()).toEqual(['CHANNEL.c1', 'SINK.k1', 'SOURCE.r1']);
    expect(status['CHANNEL.c1']).toMatchObject({
      Type: 'CHANNEL',
      ComponentType: 'memory',
      State: 'running',
      ChannelSize: '25',
      ChannelCapacity: '100',
      ChannelFillPercentage: '25',
      EventPutSuccessCount: '30',
      EventPutAttemptCount: '0',
      EventTakeSuccessCount: '0',
    });
    expect(status['SOURCE.r1']).toMatchObject({ Type: 'SOURCE', EventAcceptedCount: '12', EventReceivedCount: '0', ErrorCount: '1', LastError: 'disk gone' });
    expect(status['SINK.k1']).toMatchObject({ Type: 'SINK', EventDrainSuccessCount: '3', DeadLetterCount: '2', DroppedCount: '0', EventAgeP50Ms: '0' });
    for (const entry of Object.values(status)) for (const v of Object.values(entry)) expect(typeof v).toBe('string');
  });
});

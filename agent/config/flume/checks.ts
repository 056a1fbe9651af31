/**
 * Checks across an agent's translated components, where Flume and this project differ in how they fit together.
 *
 * Batch sizes: Flume 1.11 refuses to start a source or sink whose batch size exceeds its channel's
 * transactionCapacity (older releases failed at run time once a batch outgrew it), and this project refuses the
 * configuration. Seed 003's Kafka agent has exactly that (batchSize 5000 into a channel of transactionCapacity 100),
 * so the batch is lowered to the transactionCapacity, with a warning at the line, instead of failing.
 *
 * Kafka sink headers: Flume's Kafka sink takes the topic from the event header `topic` when there is one, and the
 * record key from the header `key`. Here the topic is `kafka.topic` (with %{header} substitution) and the key a body
 * field, so an upstream source that sets those headers would change where events go: an error for the topic, a
 * warning for the key.
 */
import { isTrue, pos, type Ctx, type Prop } from './rules.ts';
import { leaf, type YMap } from './yaml-out.ts';

export interface Summary {
  section: 'sources' | 'channels' | 'sinks';
  name: string;
  /** This project's plugin type. */
  spec: string;
  body: YMap;
  /** The component's `type` property (its position and Flume key). */
  typeProp: Prop;
  channels: string[];
  /** Headers its interceptors set. */
  headers: Set<string>;
  state?: Record<string, unknown>;
}

/** Defaults of this project's plugins (the same as Flume's) for the batch check. */
const DEFAULT_BATCH: Record<string, number> = { 'sources:spooldir': 100, 'sources:kafka': 1000, 'sinks:logger': 100, 'sinks:null': 100, 'sinks:file_roll': 100 };
const DEFAULT_TC: Record<string, number> = { file: 10000, memory: 1000 };

function num(body: YMap, key: string): number | undefined {
  const n = body.entries.get(key);
  return n?.kind === 'leaf' && typeof n.value === 'number' ? n.value : undefined;
}

export function adjustBatches(summaries: Summary[], ctx: Ctx): void {
  const tc = new Map(summaries.filter((s) => s.section === 'channels').map((s) => [s.name, s.body.entries.has('transactionCapacity') ? num(s.body, 'transactionCapacity') : DEFAULT_TC[s.spec]]));
  for (const s of summaries) {
    if (s.section === 'channels') continue;
    const current = s.body.entries.get('batchSize');
    if (current && num(s.body, 'batchSize') === undefined) continue; // a ${VAR}: known only when loaded
    const batch = num(s.body, 'batchSize') ?? DEFAULT_BATCH[`${s.section}:${s.spec}`];
    const limits = s.channels.map((c) => [c, tc.get(c)] as const).filter((x): x is readonly [string, number] => x[1] !== undefined);
    if (batch === undefined || !limits.length) continue;
    const [channel, limit] = limits.reduce((a, b) => (b[1] < a[1] ? b : a));
    if (batch <= limit) continue;
    const at = current?.pos ?? pos(s.typeProp);
    const what = current ? `batchSize ${batch}` : `the default batchSize ${batch}`;
    ctx.warn(at, `${what} of ${s.section.replace(/s$/, '')} "${s.name}" exceeds the transactionCapacity ${limit} of channel "${channel}", so Flume 1.11 would not start this ${s.section.replace(/s$/, '')}. Running it with batchSize ${limit}; raise the channel's transactionCapacity to keep ${batch}.`, s.typeProp.key.replace(/type$/, 'batchSize'));
    s.body.entries.set('batchSize', leaf(limit, at, `lowered from ${batch} to the transactionCapacity of ${channel}`));
  }
}

function headersOf(source: Summary): Set<string> {
  const set = new Set(source.headers);
  if (source.spec === 'kafka') {
    const b = source.body.entries;
    const setTopic = b.get('setTopicHeader');
    const topicHeader = b.get('topicHeader');
    if (!(setTopic?.kind === 'leaf' && setTopic.value === false)) set.add(topicHeader?.kind === 'leaf' && typeof topicHeader.value === 'string' ? topicHeader.value : 'topic');
    set.add('key');
  }
  return set;
}

export function checkKafkaSinkHeaders(summaries: Summary[], ctx: Ctx): void {
  for (const sink of summaries.filter((s) => s.section === 'sinks' && s.spec === 'kafka')) {
    const allow = sink.state?.allowTopicOverride as Prop | undefined;
    const topicHeader = ((sink.state?.topicHeader as Prop | undefined)?.value ?? 'topic').trim();
    const upstream = summaries.filter((s) => s.section === 'sources' && s.channels.some((c) => sink.channels.includes(c)));
    const setter = upstream.find((s) => headersOf(s).has(topicHeader));
    if (setter && (!allow || isTrue(allow))) {
      ctx.error(allow ?? sink.typeProp, `source "${setter.name}" sets the header "${topicHeader}", which Flume's Kafka sink "${sink.name}" would use as the topic of those events (allowTopicOverride defaults to true). Choose one: allowTopicOverride = false writes every event to kafka.topic; kafka.topic = %{${topicHeader}} routes every event by the header.`);
    }
    const keyed = upstream.find((s) => headersOf(s).has('key'));
    if (keyed) {
      ctx.warn(sink.typeProp, `source "${keyed.name}" sets the header "key", which Flume's Kafka sink "${sink.name}" would use as the record key; here records are written without a key (the YAML key setting names a body field instead).`);
    }
  }
}

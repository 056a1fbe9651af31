import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/event.ts';
import { buildItem, bulkBody, isRejection, type BulkItem, type BulkOptions } from './bulk.ts';
import { compileIndexName } from './index-name.ts';

const opts = (o: Partial<Omit<BulkOptions, 'index'>> & { index?: string } = {}): BulkOptions => ({
  opType: 'index',
  format: 'json',
  headers: [],
  timestampUnit: 'auto',
  ...o,
  index: compileIndexName(o.index ?? 'fintrans'),
});
const item = (e: Event, o: BulkOptions) => {
  const r = buildItem(e, o);
  if (isRejection(r)) throw new Error(`rejected: ${r.reason} ${r.detail}`);
  return r;
};
const lines = (i: BulkItem) => i.lines.split('\n');

describe('bulk items', () => {
  it('sends the original JSON text untouched, with an action line naming index, _id and opType', () => {
    const text = '{"transactionId":"tx-1","amount":12.50,"note":"caf\\u00e9 \\"x\\""}';
    const i = item(Event.fromText(text), opts({ idField: 'transactionId', opType: 'create' }));
    expect(lines(i)).toEqual(['{"create":{"_index":"fintrans","_id":"tx-1"}}', text, '']);
    expect(i.id).toBe('tx-1');
    expect(JSON.parse(lines(i)[0]!)).toEqual({ create: { _index: 'fintrans', _id: 'tx-1' } });
  });

  it('does not parse or re-serialize a JSON body when nothing needs a field', () => {
    const text = '{"a":1.10,  "b" : [1,2]}'; // not what JSON.stringify would write
    const e = Event.fromText(text);
    const i = item(e, opts());
    expect(lines(i)).toEqual(['{"index":{"_index":"fintrans"}}', text, '']);
    expect(e.hasData).toBe(false);
  });

  it('escapes ids and index values in the action line', () => {
    const e = Event.fromData({ id: 'a"b\\c\nd' }, { h: 'x' });
    const i = item(e, opts({ idField: 'id', index: 'idx-%{h}' }));
    expect(JSON.parse(lines(i)[0]!)).toEqual({ index: { _index: 'idx-x', _id: 'a"b\\c\nd' } });
    expect(i.lines.split('\n')).toHaveLength(3);
    expect(item(Event.fromData({ id: 42 }), opts({ idField: 'id' })).id).toBe('42');
  });

  it('puts each event in the index of its own time', () => {
    const o = opts({ index: 'fintrans-%Y.%m.%d', timestampField: 'transactionTime' });
    const a = item(Event.fromData({ transactionTime: 1_704_067_199 }), o); // 2023-12-31T23:59:59Z
    const b = item(Event.fromData({ transactionTime: 1_704_067_200 }), o);
    expect([a.index, b.index]).toEqual(['fintrans-2023.12.31', 'fintrans-2024.01.01']);
    expect(item(Event.fromText('{}', { timestamp: String(Date.UTC(2020, 4, 6)) }), opts({ index: 'i-%Y.%m.%d' })).index).toBe('i-2020.05.06');
  });

  it('rejects events without an id, with an invalid index, or whose id Elasticsearch would refuse the whole request for', () => {
    const o = opts({ idField: 'transactionId' });
    const r = (e: Event, x = o) => buildItem(e, x) as { reason: string; detail: string };
    expect(r(Event.fromData({ amount: 1 })).reason).toBe('missing-id');
    expect(r(Event.fromData({ transactionId: { x: 1 } })).reason).toBe('missing-id');
    expect(r(Event.fromData({ transactionId: '' })).reason).toBe('missing-id');
    expect(r(Event.fromText('not json')).reason).toBe('missing-id');
    expect(r(Event.fromData({ transactionId: 'x'.repeat(513) })).reason).toBe('invalid-id');
    expect(r(Event.fromData({}, { h: 'Upper' }), opts({ index: 'i-%{h}' }))).toMatchObject({ reason: 'invalid-index', detail: 'index "i-Upper" must be lowercase' });
    expect(r(Event.fromData({}), opts({ index: 'i-%{h}' })).reason).toBe('invalid-index');
  });

  it('writes a pretty-printed body on one line, and rejects it when it is not a JSON object', () => {
    const i = item(Event.fromText('{\n  "a": 1,\n  "b": "x"\n}'), opts());
    expect(lines(i)).toEqual(['{"index":{"_index":"fintrans"}}', '{"a":1,"b":"x"}', '']);
    expect(buildItem(Event.fromText('{\n"a":'), opts())).toMatchObject({ reason: 'not-json' });
    expect(buildItem(Event.fromText('[\n1]'), opts())).toMatchObject({ reason: 'not-json-object' });
  });

  it('leaves a body that is not JSON to the server when nothing needs its fields (it answers per item)', () => {
    expect(lines(item(Event.fromText('plain'), opts()))[1]).toBe('plain');
  });

  it('splices headers into the original text as fields, without overriding the document', () => {
    const o = opts({ headers: ['basename', 'host', 'absent'] });
    const i = item(Event.fromText(' {"host":"doc","a":1.50}', { basename: 'f.jsonl', host: 'agent' }), o);
    expect(lines(i)[1]).toBe('{"basename":"f.jsonl","host":"doc","a":1.50}');
    expect(lines(item(Event.fromText('{ }', { basename: 'f' }), o))[1]).toBe('{"basename":"f"}');
    expect(lines(item(Event.fromText('{"a":1}'), o))[1]).toBe('{"a":1}');
    expect(buildItem(Event.fromText('42', { basename: 'f' }), o)).toMatchObject({ reason: 'not-json-object' });
  });

  it('adds the event time as a field the document lacks, e.g. @timestamp for Kibana, without touching the rest', () => {
    const o = opts({ addTimestamp: '@timestamp', timestampField: 'time', headers: ['basename', 'basename'] });
    const e = Event.fromText('{"time":"2024-03-05T07:08:09.000Z","level":"info","msg":"Agent started."}', { basename: 'agent-1.jsonl' });
    expect(lines(item(e, o))[1]).toBe('{"@timestamp":"2024-03-05T07:08:09.000Z","basename":"agent-1.jsonl","time":"2024-03-05T07:08:09.000Z","level":"info","msg":"Agent started."}');
    expect(lines(item(Event.fromText('{"@timestamp":"kept"}'), o))[1]).toBe('{"@timestamp":"kept"}');
  });

  it('wraps text events as {"@timestamp","message"} plus headers', () => {
    const e = Event.fromText('[2024-03-05 07:08:09,000] INFO "quoted"\tline', { timestamp: String(Date.UTC(2024, 2, 5, 7, 8, 9)), basename: 'server.log' });
    const i = item(e, opts({ format: 'text', headers: ['basename'], index: 'logs-%Y.%m.%d' }));
    expect(i.index).toBe('logs-2024.03.05');
    expect(JSON.parse(lines(i)[1]!)).toEqual({ '@timestamp': '2024-03-05T07:08:09.000Z', message: '[2024-03-05 07:08:09,000] INFO "quoted"\tline', basename: 'server.log' });
  });

  it('joins items into an NDJSON body ending with a newline', () => {
    const o = opts({ idField: 'id' });
    const items = [1, 2].map((id) => item(Event.fromData({ id }), o));
    const body = bulkBody(items);
    expect(body).toBe('{"index":{"_index":"fintrans","_id":"1"}}\n{"id":1}\n{"index":{"_index":"fintrans","_id":"2"}}\n{"id":2}\n');
    expect(bulkBody([])).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { Event } from '../../../agent/index.ts';
import { PointBuilder, type PointSpec } from './points.ts';

const spec = (s: Partial<PointSpec> = {}): PointSpec => ({ measurement: 'm', tags: [], fields: ['amount'], integerFields: [], precision: 'ns', uniqueTimestamps: true, ...s });
const ev = (data: unknown, ingestTime = 1_700_000_000_000) => Event.fromData(data, {}, ingestTime);

describe('PointBuilder', () => {
  it('writes the seed 003 point: tags sorted by key, fields in order, types kept, time from an ISO field', () => {
    const b = new PointBuilder(
      spec({
        measurement: 'finance_transaction_data',
        tags: ['transaction_id', 'account_id', 'transaction_type', 'currency', 'branch'],
        fields: ['amount', 'transaction_date', 'description', 'customer_age', 'merchant_id', 'location_city'],
        integerFields: ['customer_age'],
        timestampField: 'transaction_date',
        precision: 'us',
      }),
    );
    const line = b.line(
      Event.fromText(
        '{"transaction_id":"T123456","account_id":"A654321","transaction_type":"payment","amount":4386,"currency":"USD","transaction_date":"2024-11-03T23:06:25.806123Z","description":"Payment of 4386 USD","branch":"Main Street","customer_age":42,"merchant_id":null,"location_city":"New York"}',
      ),
    );
    expect(line).toBe(
      'finance_transaction_data,account_id=A654321,branch=Main\\ Street,currency=USD,transaction_id=T123456,transaction_type=payment ' +
        'amount=4386,transaction_date="2024-11-03T23:06:25.806123Z",description="Payment of 4386 USD",customer_age=42i,location_city="New York" 1730675185806123',
    );
  });

  it('takes the measurement from a field when told to, and refuses events without it', () => {
    const b = new PointBuilder(spec({ measurement: undefined, measurementField: 'kind' }));
    expect(b.line(ev({ kind: 'deposits', amount: 1 }))).toBe('deposits amount=1 1700000000000000000');
    const { points, refused } = b.build([ev({ amount: 1 }), ev({ kind: 7, amount: 1 }), ev({ kind: '#x', amount: 1 })]);
    expect(points).toHaveLength(0);
    expect(refused.map((r) => r.reason)).toEqual(['invalid-measurement', 'invalid-measurement', 'invalid-measurement']);
    expect(refused[0]!.detail).toMatch(/measurementField kind is missing/);
  });

  it('uses the time the event entered the agent when no timestampField is set', () => {
    expect(new PointBuilder(spec({ precision: 'ms' })).line(ev({ amount: 2 }, 1_700_000_000_123))).toBe('m amount=2 1700000000123');
  });

  it('converts epoch seconds, milliseconds and ISO times to the write precision', () => {
    const b = new PointBuilder(spec({ timestampField: 'ts', precision: 's' }));
    expect(b.line(ev({ amount: 1, ts: 1_700_000_000 }))).toMatch(/ 1700000000$/);
    expect(b.line(ev({ amount: 1, ts: 1_700_000_000_999 }))).toMatch(/ 1700000000$/);
    expect(b.line(ev({ amount: 1, ts: '2023-11-14T22:13:20.5Z' }))).toMatch(/ 1700000000$/);
  });

  it('refuses, without sending, events that cannot be points, and keeps the others', () => {
    const b = new PointBuilder(spec({ fields: ['amount', 'note'], timestampField: 'ts' }));
    const events = [
      ev({ amount: 1, ts: 1_700_000_000 }),
      ev({ note: null, ts: 1_700_000_000 }),
      ev({ amount: 1 }),
      ev({ amount: 1, ts: 'tomorrow' }),
      ev({ amount: Number.NaN, ts: 1_700_000_000 }),
      Event.fromText('not json'),
      Event.fromText('[1,2]'),
    ];
    const { points, refused } = b.build(events);
    expect(points.map((p) => p.event)).toEqual([events[0]]);
    expect(refused.map((r) => [events.indexOf(r.event), r.reason])).toEqual([
      [1, 'no-fields'],
      [2, 'invalid-timestamp'],
      [3, 'invalid-timestamp'],
      [4, 'invalid-field'],
      [5, 'malformed-json'],
      [6, 'not-an-object'],
    ]);
    expect(refused[2]!.detail).toMatch(/"tomorrow", neither epoch/);
  });

  it('moves a point that would overwrite an earlier one of the same series and time by one unit', () => {
    const b = new PointBuilder(spec({ tags: ['city'], timestampField: 'ts', precision: 'ms' }));
    const { points } = b.build([ev({ city: 'SF', amount: 1, ts: 1e12 }), ev({ city: 'SF', amount: 2, ts: 1e12 }), ev({ city: 'NYC', amount: 3, ts: 1e12 }), ev({ city: 'SF', amount: 4, ts: 1e12 })]);
    expect(points.map((p) => p.line)).toEqual(['m,city=SF amount=1 1000000000000', 'm,city=SF amount=2 1000000000001', 'm,city=NYC amount=3 1000000000000', 'm,city=SF amount=4 1000000000002']);
    const plain = new PointBuilder(spec({ tags: ['city'], timestampField: 'ts', precision: 'ms', uniqueTimestamps: false })).build([ev({ city: 'SF', amount: 1, ts: 1e12 }), ev({ city: 'SF', amount: 2, ts: 1e12 })]);
    expect(plain.points.map((p) => p.line)).toEqual(['m,city=SF amount=1 1000000000000', 'm,city=SF amount=2 1000000000000']);
  });

  it('skips times that moved points of other original times took, as probing from the original time would', () => {
    const b = new PointBuilder(spec({ timestampField: 'ts', precision: 'ms' }));
    const ts = [1e12, 1e12, 1e12 + 1, 1e12, 1e12 + 1, 1e12 + 5, 1e12 + 3, 1e12];
    const { points } = b.build(ts.map((t, i) => ev({ amount: i, ts: t })));
    const times = points.map((p) => Number(p.line.split(' ')[2]) - 1e12);
    expect(times).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const many = b.build(Array.from({ length: 3000 }, (_, i) => ev({ amount: i, ts: 1e12 + (i % 3) })));
    expect(new Set(many.points.map((p) => p.line.split(' ')[2])).size).toBe(3000);
  });

  it('reads dotted paths', () => {
    const b = new PointBuilder(spec({ tags: ['payer.country'], fields: ['payment.amount'] }));
    expect(b.line(ev({ payer: { country: 'DE' }, payment: { amount: 3 } }))).toBe('m,payer.country=DE payment.amount=3 1700000000000000000');
  });
});

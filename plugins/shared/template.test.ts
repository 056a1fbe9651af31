import { describe, expect, it } from 'vitest';
import { Event } from '../../agent/event.ts';
import { compileTemplate } from './template.ts';

describe('templates', () => {
  it('substitutes headers and fields, and reports a missing value as undefined', () => {
    const t = compileTemplate('tx-%{region}-%[merchant.id]');
    expect(t(Event.fromData({ merchant: { id: 7 } }, { region: 'eu' }))).toBe('tx-eu-7');
    expect(t(Event.fromData({ merchant: {} }, { region: 'eu' }))).toBeUndefined();
    expect(t(Event.fromText('not json', { region: 'eu' }))).toBeUndefined();
    expect(t.constant).toBeUndefined();
    expect(compileTemplate('finance').constant).toBe('finance');
  });
});

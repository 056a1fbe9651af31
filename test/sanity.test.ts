import { expect, test } from 'vitest';
import { Event } from '../agent/event.ts';
test('node version', () => { expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22); expect(Event.fromText('{"a":1}').data.a).toBe(1); });

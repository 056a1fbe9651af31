/**
 * `frequency`: more than `threshold` events for one key (a user, a card, an account) within any trailing window,
 * the classic velocity check. Exact with a per-key entry cap above the threshold: the newest threshold + 1 entries
 * decide whether the window holds more than threshold events.
 */
import { type RuleConfig, type RuleModule, fieldReader, fieldSchema, keyText, windowedProperties } from './rule.ts';
import { WindowedRule, describeKeys } from './windowed.ts';

export const frequency: RuleModule = {
  type: 'frequency',
  description: 'more than threshold events for one key within the trailing window',
  properties: {
    key: fieldSchema('Field whose value groups events, such as userId or payer.account (dotted path).'),
    ...windowedProperties('the number of events for one key'),
  },
  required: ['key', 'window', 'threshold'],
  lint(rule: RuleConfig) {
    return Number.isInteger(rule.threshold) ? [] : [{ key: 'threshold', message: `must be a whole number of events, got ${String(rule.threshold)}.` }];
  },
  create(rule, shared) {
    const name = rule.key as string;
    const get = fieldReader(name);
    const threshold = rule.threshold as number;
    return new WindowedRule(rule.id, 'frequency', rule, shared, {
      measure: 'count',
      key: (data) => keyText(get(data)),
      value: () => 1,
      scaledThreshold: threshold,
      keys: (data) => ({ [name]: keyText(get(data))! }),
      observed: (n) => n,
      message: (keys, n, window) => `${n} events for ${describeKeys(keys)} within ${window} (more than ${threshold})`,
    });
  },
};

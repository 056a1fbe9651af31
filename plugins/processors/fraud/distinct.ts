/**
 * `distinct`: more than `threshold` distinct values of a field for one key within the trailing window, such as
 * one user paying from more locations than anyone can travel between ("impossible travel"), or one card used at
 * many merchants. Values are compared as text, so 7 and "7" are one value.
 */
import { type RuleConfig, type RuleModule, fieldReader, fieldSchema, keyText, windowedProperties } from './rule.ts';
import { WindowedRule, describeKeys } from './windowed.ts';

export const distinct: RuleModule = {
  type: 'distinct',
  description: 'more than threshold distinct values of a field for one key within the trailing window',
  properties: {
    key: fieldSchema('Field whose value groups events, such as userId (dotted path).'),
    field: fieldSchema('Field whose distinct values are counted per key, such as location (dotted path).'),
    ...windowedProperties('the number of distinct values for one key'),
  },
  required: ['key', 'field', 'window', 'threshold'],
  lint(rule: RuleConfig) {
    return Number.isInteger(rule.threshold) ? [] : [{ key: 'threshold', message: `must be a whole number of distinct values, got ${String(rule.threshold)}.` }];
  },
  create(rule, shared) {
    const keyName = rule.key as string;
    const fieldName = rule.field as string;
    const getKey = fieldReader(keyName);
    const getField = fieldReader(fieldName);
    const threshold = rule.threshold as number;
    return new WindowedRule(rule.id, 'distinct', rule, shared, {
      measure: 'distinct',
      key: (data) => keyText(getKey(data)),
      value: (data) => keyText(getField(data)),
      scaledThreshold: threshold,
      keys: (data) => ({ [keyName]: keyText(getKey(data))! }),
      observed: (n) => n,
      message: (keys, n, window) => `${n} distinct ${fieldName} values for ${describeKeys(keys)} within ${window} (more than ${threshold})`,
    });
  },
};

/**
 * `pair-volume`: the total of a field moved from one `from` value to one `to` value within the trailing window
 * exceeds `threshold`: the DC/OS fintrans demo's money-laundering detector, whose line it logs as it did
 * ("POTENTIAL MONEY LAUNDERING: 516 -> 482 totalling 8644 now"). Amounts are summed as integers scaled by
 * 10^decimals, so a total is exact however many amounts enter and leave the window (floating-point accumulation
 * would drift, and a window that subtracts what leaves it would drift further).
 */
import { type RuleConfig, type RuleModule, fieldReader, fieldSchema, keyText, numberOf, windowedProperties } from './rule.ts';
import { WindowedRule } from './windowed.ts';

/** Separates from and to in a store key; never found in account ids. */
const SEP = '\u001f';

export const pairVolume: RuleModule = {
  type: 'pair-volume',
  description: 'the sum of a field from one value to another within the trailing window exceeds threshold',
  properties: {
    from: fieldSchema('Field holding the paying side, such as source (dotted path).'),
    to: fieldSchema('Field holding the receiving side, such as target (dotted path).'),
    field: fieldSchema('Numeric field summed per (from, to) pair, such as amount (a number or a decimal string).'),
    ...windowedProperties('the total of field for one pair'),
    decimals: {
      type: 'integer',
      minimum: 0,
      maximum: 8,
      description:
        'Decimal places kept when summing (amounts are summed exactly as integers scaled by 10^decimals; further ' +
        'digits are rounded). Default 4, enough for every currency.',
    },
  },
  required: ['from', 'to', 'field', 'window', 'threshold'],
  create(rule: RuleConfig, shared) {
    const fromName = rule.from as string;
    const toName = rule.to as string;
    const getFrom = fieldReader(fromName);
    const getTo = fieldReader(toName);
    const getAmount = fieldReader(rule.field as string);
    const scale = 10 ** ((rule.decimals as number | undefined) ?? 4);
    const threshold = rule.threshold as number;
    return new WindowedRule(rule.id, 'pair-volume', rule, shared, {
      measure: 'sum',
      key: (data) => {
        const from = keyText(getFrom(data));
        const to = keyText(getTo(data));
        return from === undefined || to === undefined ? undefined : from + SEP + to;
      },
      value: (data) => {
        const n = numberOf(getAmount(data));
        return n === undefined ? undefined : Math.round(n * scale);
      },
      scaledThreshold: Math.round(threshold * scale),
      keys: (data) => ({ [fromName]: keyText(getFrom(data))!, [toName]: keyText(getTo(data))! }),
      // An integer divided by a power of ten prints as the exact decimal it stands for.
      observed: (sum) => sum / scale,
      message: (keys, total, window) =>
        `${total} moved from ${fromName}=${keys[fromName]} to ${toName}=${keys[toName]} within ${window} (more than ${threshold})`,
      onFire(hit, env) {
        env.log.warn(
          { ruleId: rule.id, [fromName]: hit.keys[fromName], [toName]: hit.keys[toName], total: hit.value },
          `POTENTIAL MONEY LAUNDERING: ${hit.keys[fromName]} -> ${hit.keys[toName]} totalling ${hit.value} now`,
        );
      },
    });
  },
};

/**
 * `threshold`: one numeric field compared with bounds (`gt`, `gte`, `lt`, `lte`; all that are set must hold), such
 * as a single very large payment. Stateless: every matching event fires.
 */
import type { Hit, RuleConfig, RuleModule } from './rule.ts';
import { fieldReader, fieldSchema, numberOf } from './rule.ts';

const OPS = ['gt', 'gte', 'lt', 'lte'] as const;
const SYMBOL = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
const bound = (description: string) => ({ type: 'number', description });

export const threshold: RuleModule = {
  type: 'threshold',
  description: 'a numeric field compared with bounds; every matching event fires',
  properties: {
    field: fieldSchema('Numeric field to compare, such as amount (dotted path; a number or a decimal string).'),
    gt: bound('Fires when the field is greater than this.'),
    gte: bound('Fires when the field is greater than or equal to this.'),
    lt: bound('Fires when the field is less than this.'),
    lte: bound('Fires when the field is less than or equal to this.'),
  },
  required: ['field'],
  lint(rule: RuleConfig) {
    return OPS.some((op) => rule[op] !== undefined) ? [] : [{ message: 'set at least one of gt, gte, lt or lte (all that are set must hold).' }];
  },
  create(rule) {
    const field = rule.field as string;
    const get = fieldReader(field);
    const ops = OPS.filter((op) => typeof rule[op] === 'number');
    const bounds = Object.fromEntries(ops.map((op) => [op, rule[op] as number]));
    const single = ops.length === 1 ? (rule[ops[0]!] as number) : null;
    const gt = rule.gt as number | undefined;
    const gte = rule.gte as number | undefined;
    const lt = rule.lt as number | undefined;
    const lte = rule.lte as number | undefined;
    const text = ops.map((op) => `${SYMBOL[op]} ${bounds[op]}`).join(' and ');
    return {
      id: rule.id,
      type: 'threshold',
      check(data, id, _time, env): Hit | undefined {
        const n = numberOf(get(data));
        if (n === undefined) {
          env.skipped.inc();
          return undefined;
        }
        if ((gt !== undefined && !(n > gt)) || (gte !== undefined && !(n >= gte)) || (lt !== undefined && !(n < lt)) || (lte !== undefined && !(n <= lte))) {
          return undefined;
        }
        return { keys: {}, value: n, threshold: single, bounds, transactionIds: id === undefined ? [] : [id], message: `${rule.id}: ${field} ${n} ${text}` };
      },
    };
  },
};

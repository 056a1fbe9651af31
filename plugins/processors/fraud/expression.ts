/**
 * `expression`: a boolean expression over the event's fields, such as `isInternational && amount > 3000`, in the
 * small language of parser.ts. Parsed once (a syntax error is a configuration error with its column); an event on
 * which it cannot be evaluated (a missing field, a type mismatch) does not fire and is counted.
 */
import { Evaluator, FAILED } from './evaluate.ts';
import { ExpressionSyntaxError, parse } from './parser.ts';
import type { Hit, RuleConfig, RuleModule } from './rule.ts';

/** The parse problem of a `when`, as a message that says where and what was expected; undefined when it parses. */
export function whenProblem(when: string): string | undefined {
  try {
    parse(when);
    return undefined;
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    return `syntax error at column ${error.column} of ${JSON.stringify(when)}: ${error.detail}.`;
  }
}

export const expression: RuleModule = {
  type: 'expression',
  description: 'a boolean expression over the event fields; every event it is true for fires',
  properties: {
    when: {
      type: 'string',
      minLength: 1,
      // Parsing and evaluation recurse once per nesting level; this bound keeps both far from the stack's limit.
      maxLength: 2000,
      description:
        "Boolean expression over the event's fields: numbers, 'strings', true, false, null, dotted fields " +
        '(payer.country), ! and unary -, * / %, + -, < <= > >=, == != (strict: no type coercion), &&, ||, ' +
        "parentheses and `x in [1, 'a']`. A missing field or a type mismatch makes the rule not fire for that event.",
    },
  },
  required: ['when'],
  lint(rule: RuleConfig) {
    const problem = whenProblem(rule.when as string);
    return problem === undefined ? [] : [{ key: 'when', message: problem }];
  },
  create(rule) {
    const evaluator = new Evaluator(parse(rule.when as string));
    const text = rule.when as string;
    return {
      id: rule.id,
      type: 'expression',
      check(data, id, _time, env): Hit | undefined {
        const result = evaluator.test(data);
        if (result === FAILED) {
          env.expressionErrors.inc();
          env.warnLimited(`expression:${rule.id}`, `Rule ${rule.id} could not be evaluated on an event, so it did not fire: ${evaluator.lastError}.`);
          return undefined;
        }
        if (!result) return undefined;
        return { keys: {}, value: null, threshold: null, transactionIds: id === undefined ? [] : [id], message: `${rule.id}: ${text}` };
      },
    };
  },
};

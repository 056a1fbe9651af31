/**
 * Evaluates a parsed expression (see parser.ts) against one event's JSON body by walking the AST. The semantics are
 * strict so a rule never fires by accident: no type coercion (`amount > "3000"` is a type error, not a string
 * compare), a missing field is an error rather than `undefined`, `&&`/`||`/`!` want booleans. An error never
 * throws: it yields FAILED and `lastError` says why, and the rule then simply does not fire.
 *
 * Fields are read as own properties only, so `constructor` or `__proto__` name nothing but the event's own keys.
 */
import type { Literal, Node } from './parser.ts';

export const FAILED: unique symbol = Symbol('failed');
type Result = Literal | typeof FAILED;

const hasOwn = Object.prototype.hasOwnProperty;

export class Evaluator {
  /** Why the last evaluation returned FAILED. */
  lastError = '';

  constructor(private readonly ast: Node) {}

  /** true or false, or FAILED when the expression could not be evaluated on this body or is not a boolean. */
  test(data: unknown): boolean | typeof FAILED {
    const v = this.walk(this.ast, data);
    if (v === FAILED || typeof v === 'boolean') return v;
    return this.fail(`the expression gave ${show(v)}, not true or false`);
  }

  /** The value of the whole expression (for tests and tools). */
  value(data: unknown): Result {
    return this.walk(this.ast, data);
  }

  private fail(message: string): typeof FAILED {
    this.lastError = message;
    return FAILED;
  }

  private walk(node: Node, data: unknown): Result {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'field':
        return this.field(node.path, data);
      case 'unary': {
        const v = this.walk(node.operand, data);
        if (v === FAILED) return v;
        if (node.op === '!') return typeof v === 'boolean' ? !v : this.fail(`'!' needs true or false, got ${show(v)} at column ${node.col}`);
        return typeof v === 'number' ? -v : this.fail(`'-' needs a number, got ${show(v)} at column ${node.col}`);
      }
      case 'in': {
        const v = this.walk(node.value, data);
        if (v === FAILED) return v;
        for (const item of node.list) {
          const w = this.walk(item, data);
          if (w === FAILED) return w;
          if (w === v) return true;
        }
        return false;
      }
      case 'binary':
        return this.binary(node, data);
    }
  }

  private binary(node: Extract<Node, { kind: 'binary' }>, data: unknown): Result {
    const op = node.op;
    const l = this.walk(node.left, data);
    if (l === FAILED) return l;
    if (op === '&&' || op === '||') {
      if (typeof l !== 'boolean') return this.fail(`'${op}' needs true or false, got ${show(l)} at column ${node.col}`);
      if (op === '&&' ? !l : l) return l;
      const r = this.walk(node.right, data);
      if (r === FAILED || typeof r === 'boolean') return r;
      return this.fail(`'${op}' needs true or false, got ${show(r)} at column ${node.col}`);
    }
    const r = this.walk(node.right, data);
    if (r === FAILED) return r;
    if (op === '==') return l === r;
    if (op === '!=') return l !== r;
    if (op === '<' || op === '<=' || op === '>' || op === '>=') {
      const bothNumbers = typeof l === 'number' && typeof r === 'number';
      if (!bothNumbers && !(typeof l === 'string' && typeof r === 'string')) {
        return this.fail(`'${op}' needs two numbers or two strings, got ${show(l)} and ${show(r)} at column ${node.col}`);
      }
      const a = l as number | string;
      const b = r as number | string;
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
    if (typeof l !== 'number' || typeof r !== 'number') {
      return this.fail(`'${op}' needs two numbers${op === '+' ? ' or two strings' : ''}, got ${show(l)} and ${show(r)} at column ${node.col}`);
    }
    const v = op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : op === '/' ? l / r : l % r;
    return Number.isFinite(v) ? v : this.fail(`'${op}' gave ${v} (division by zero?) at column ${node.col}`);
  }

  private field(path: readonly string[], data: unknown): Result {
    let v: unknown = data;
    for (let i = 0; i < path.length; i++) {
      if (v === null || typeof v !== 'object' || !hasOwn.call(v, path[i]!)) return this.fail(`field ${path.join('.')} is missing`);
      v = (v as Record<string, unknown>)[path[i]!];
    }
    const t = typeof v;
    if (v === null || t === 'number' || t === 'string' || t === 'boolean') return v as Literal;
    return this.fail(`field ${path.join('.')} is ${Array.isArray(v) ? 'an array' : 'an object'}, not a number, string, boolean or null`);
  }
}

function show(v: Literal): string {
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}` : String(v);
}

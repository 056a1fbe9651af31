/**
 * The `expression` rule's language: a tokenizer and a precedence-climbing parser that turn configuration text into
 * an AST once, at validation. Nothing here (or in the evaluator) hands configuration text to eval, Function, vm or
 * any other code generator: the only things an expression can do are the operators below on the event's own fields,
 * and anything else, such as a call `f()`, is a syntax error with its column.
 *
 * Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >= in`, `+ -`, `* / %`, then the prefixes `!` and `-`.
 * Comparisons do not chain (`a < b < c` is an error), since the JavaScript reading of that is never what is meant.
 */

export type Literal = number | string | boolean | null;

export type Node =
  | { kind: 'literal'; value: Literal; col: number }
  | { kind: 'field'; path: readonly string[]; col: number }
  | { kind: 'unary'; op: '!' | '-'; operand: Node; col: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; col: number }
  | { kind: 'in'; value: Node; list: readonly Node[]; col: number };

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

/** A syntax error; `column` is 1-based in the expression text. */
export class ExpressionSyntaxError extends Error {
  constructor(readonly column: number, readonly detail: string) {
    super(`column ${column}: ${detail}`);
  }
}

type Token =
  | { t: 'num'; value: number; col: number; text: string }
  | { t: 'str'; value: string; col: number; text: string }
  | { t: 'path'; path: string[]; col: number; text: string }
  | { t: 'kw'; value: 'true' | 'false' | 'null' | 'in'; col: number; text: string }
  | { t: 'op'; value: string; col: number; text: string }
  | { t: 'end'; col: number; text: string };

const PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, in: 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6,
};
const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', '[', ']', ','];
const MISTAKES: Record<string, string> = {
  '===': "'===' is not needed: == is already strict (no type coercion)",
  '!==': "'!==' is not needed: != is already strict (no type coercion)",
  '=': "'=' is not an operator: use == to compare",
  '&': "'&' is not an operator: use && for and",
  '|': "'|' is not an operator: use || for or",
};
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
const KEYWORDS = new Set(['true', 'false', 'null', 'in']);
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const SEGMENT = /[A-Za-z0-9_]+/y;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const match = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(text)?.[0];
  };
  while (i < text.length) {
    const c = text[i]!;
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const num = match(NUMBER);
    if (num !== undefined) {
      out.push({ t: 'num', value: Number(num), col, text: num });
      i += num.length;
      continue;
    }
    const ident = match(IDENT);
    if (ident !== undefined) {
      const path = [ident];
      i += ident.length;
      while (text[i] === '.') {
        i++;
        const seg = match(SEGMENT);
        if (seg === undefined) throw new ExpressionSyntaxError(i + 1, `expected a field name after '.' in "${text.slice(col - 1, i)}"`);
        path.push(seg);
        i += seg.length;
      }
      const whole = text.slice(col - 1, i);
      if (path.length === 1 && KEYWORDS.has(ident)) out.push({ t: 'kw', value: ident as 'true', col, text: whole });
      else out.push({ t: 'path', path, col, text: whole });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new ExpressionSyntaxError(col, `unterminated string: add the closing ${c}`);
        const d = text[j]!;
        if (d === c) break;
        if (d === '\\') {
          const esc = ESCAPES[text[j + 1] ?? ''];
          if (esc === undefined) throw new ExpressionSyntaxError(j + 1, `unknown escape '\\${text[j + 1] ?? ''}' (use \\\\, \\', \\", \\n, \\t or \\r)`);
          value += esc;
          j += 2;
        } else {
          value += d;
          j++;
        }
      }
      out.push({ t: 'str', value, col, text: text.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (text.startsWith('===', i) || text.startsWith('!==', i)) throw new ExpressionSyntaxError(col, MISTAKES[text.slice(i, i + 3)]!);
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw new ExpressionSyntaxError(col, MISTAKES[c] ?? `unexpected character '${c}'`);
    out.push({ t: 'op', value: op, col, text: op });
    i += op.length;
  }
  out.push({ t: 'end', col: text.length + 1, text: 'the end of the expression' });
  return out;
}

const describe = (tok: Token) => (tok.t === 'end' ? tok.text : `'${tok.text}'`);

/** Parses an expression to its AST; throws ExpressionSyntaxError with the column and what was expected. */
export function parse(text: string): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const fail = (expected: string): never => {
    const tok = peek();
    throw new ExpressionSyntaxError(tok.col, `expected ${expected}, found ${describe(tok)}`);
  };
  const isOp = (value: string) => {
    const tok = peek();
    return (tok.t === 'op' || tok.t === 'kw') && tok.value === value;
  };
  const expectOp = (value: string, what: string) => (isOp(value) ? tokens[pos++]! : fail(what));

  const VALUE = "a value (a number, a 'string', a field, true, false, null, '(', '!' or '-')";

  function primary(): Node {
    const tok = tokens[pos]!;
    switch (tok.t) {
      case 'num':
      case 'str':
        pos++;
        return { kind: 'literal', value: tok.value, col: tok.col };
      case 'path':
        pos++;
        return { kind: 'field', path: tok.path, col: tok.col };
      case 'kw':
        if (tok.value === 'in') return fail(VALUE);
        pos++;
        return { kind: 'literal', value: tok.value === 'null' ? null : tok.value === 'true', col: tok.col };
      case 'op':
        if (tok.value === '!' || tok.value === '-') {
          pos++;
          return { kind: 'unary', op: tok.value, operand: primary(), col: tok.col };
        }
        if (tok.value === '(') {
          pos++;
          const inner = expression(1);
          expectOp(')', "')' to close the '(' at column " + tok.col + ' (or an operator)');
          return inner;
        }
        return fail(VALUE);
      default:
        return fail(VALUE);
    }
  }

  function list(): Node[] {
    const open = expectOp('[', "'[' to start the list after 'in'");
    const items: Node[] = [];
    if (isOp(']')) return (pos++, items);
    for (;;) {
      items.push(expression(1));
      if (isOp(']')) return (pos++, items);
      expectOp(',', `',' or ']' to close the list opened at column ${open.col}`);
    }
  }

  function expression(minPrec: number): Node {
    let left = primary();
    let lastPrec = 0;
    for (;;) {
      const tok = peek();
      const prec = tok.t === 'op' || tok.t === 'kw' ? PRECEDENCE[tok.value] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      if ((prec === 3 || prec === 4) && lastPrec === prec) {
        throw new ExpressionSyntaxError(tok.col, `comparisons do not chain: write "a < b && b < c" instead of "a < b < c", or add parentheses`);
      }
      pos++;
      lastPrec = prec;
      const op = (tok as { value: string }).value;
      if (op === 'in') left = { kind: 'in', value: left, list: list(), col: tok.col };
      else left = { kind: 'binary', op: op as BinaryOp, left, right: expression(prec + 1), col: tok.col };
    }
  }

  const ast = expression(1);
  if (peek().t !== 'end') fail("an operator (such as &&, ||, ==, <, +) or the end of the expression");
  return ast;
}

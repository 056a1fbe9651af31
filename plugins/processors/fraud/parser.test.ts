import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { type Node, ExpressionSyntaxError, parse } from './parser.ts';

/** The AST as fully parenthesised text, to read precedence and associativity at a glance. */
function show(node: Node): string {
  switch (node.kind) {
    case 'literal':
      return JSON.stringify(node.value);
    case 'field':
      return node.path.join('.');
    case 'unary':
      return `(${node.op}${show(node.operand)})`;
    case 'binary':
      return `(${show(node.left)} ${node.op} ${show(node.right)})`;
    case 'in':
      return `(${show(node.value)} in [${node.list.map(show).join(', ')}])`;
  }
}

function syntaxError(text: string): ExpressionSyntaxError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) return error;
    throw error;
  }
  throw new Error(`"${text}" parsed`);
}

describe('expression parser', () => {
  test('literals, dotted fields and keywords', () => {
    expect(show(parse(`1.5e3 == 'a' || "b\\"c" != null && true != false`))).toBe('((1500 == "a") || (("b\\"c" != null) && (true != false)))');
    expect(show(parse('payer.country == "DE"'))).toBe('(payer.country == "DE")');
    expect(show(parse('items.0.price'))).toBe('items.0.price');
  });

  test('precedence: * over +, + over comparison, comparison over ==, == over &&, && over ||', () => {
    expect(show(parse('a + b * c'))).toBe('(a + (b * c))');
    expect(show(parse('a * b + c % d'))).toBe('((a * b) + (c % d))');
    expect(show(parse('a + 1 > b - 2'))).toBe('((a + 1) > (b - 2))');
    expect(show(parse('a < b == c >= d'))).toBe('((a < b) == (c >= d))');
    expect(show(parse('a || b && c'))).toBe('(a || (b && c))');
    expect(show(parse('a && b || c && d'))).toBe('((a && b) || (c && d))');
    expect(show(parse('isInternational && amount > 3000'))).toBe('(isInternational && (amount > 3000))');
  });

  test('left associativity, prefixes binding tightest, parentheses overriding', () => {
    expect(show(parse('a - b - c'))).toBe('((a - b) - c)');
    expect(show(parse('a / b * c'))).toBe('((a / b) * c)');
    expect(show(parse('-a * b'))).toBe('((-a) * b)');
    expect(show(parse('!a && b'))).toBe('((!a) && b)');
    expect(show(parse('!(a && b)'))).toBe('(!(a && b))');
    expect(show(parse('a * (b + c)'))).toBe('(a * (b + c))');
    expect(show(parse('--1'))).toBe('(-(-1))');
  });

  test('in lists, at comparison level', () => {
    expect(show(parse("currency in ['USD', 'EUR'] && amount > 1 + 2"))).toBe('((currency in ["USD", "EUR"]) && (amount > (1 + 2)))');
    expect(show(parse('x in []'))).toBe('(x in [])');
    expect(show(parse('a + 1 in [2, b * 2]'))).toBe('((a + 1) in [2, (b * 2)])');
  });

  test('syntax errors carry the column and what was expected', () => {
    expect(syntaxError('amount >').message).toBe(
      "column 9: expected a value (a number, a 'string', a field, true, false, null, '(', '!' or '-'), found the end of the expression",
    );
    expect(syntaxError('a && && b').column).toBe(6);
    expect(syntaxError('(a || b').message).toBe("column 8: expected ')' to close the '(' at column 1 (or an operator), found the end of the expression");
    expect(syntaxError('a b').message).toBe("column 3: expected an operator (such as &&, ||, ==, <, +) or the end of the expression, found 'b'");
    expect(syntaxError("x in ['a' 'b']").message).toBe("column 11: expected ',' or ']' to close the list opened at column 6, found ''b''");
    expect(syntaxError('x in y').message).toMatch(/^column 6: expected '\[' to start the list after 'in'/);
    expect(syntaxError('a.').message).toMatch(/^column 3: expected a field name after '.'/);
  });

  test('lexical errors: strings, escapes, unknown characters, and operators from other languages', () => {
    expect(syntaxError("name == 'abc").message).toBe("column 9: unterminated string: add the closing '");
    expect(syntaxError("'a\\x'").message).toMatch(/^column 3: unknown escape '\\x'/);
    expect(syntaxError('a # b').message).toBe("column 3: unexpected character '#'");
    expect(syntaxError('a = 1').message).toBe("column 3: '=' is not an operator: use == to compare");
    expect(syntaxError('a === 1').message).toMatch(/^column 3: '===' is not needed: == is already strict/);
    expect(syntaxError('a & b').message).toMatch(/^column 3: '&' is not an operator: use &&/);
    expect(syntaxError('a | b').column).toBe(3);
  });

  test('comparisons do not chain', () => {
    expect(syntaxError('1 < a < 3').message).toMatch(/^column 7: comparisons do not chain/);
    expect(syntaxError('a == b != c').column).toBe(8);
    expect(show(parse('(1 < a) == true'))).toBe('((1 < a) == true)');
  });

  test('nothing can be called, indexed or assigned: code in an expression is a syntax error', () => {
    expect(syntaxError("constructor.constructor('return 1')()").message).toBe(
      "column 24: expected an operator (such as &&, ||, ==, <, +) or the end of the expression, found '('",
    );
    expect(syntaxError('process.exit()').column).toBe(13);
    expect(syntaxError("a['constructor']").column).toBe(2);
    expect(syntaxError('x = 1').column).toBe(3);
    expect(syntaxError('`${1}`').message).toBe("column 1: unexpected character '`'");
    expect(syntaxError('a; b').column).toBe(2);
    expect(syntaxError('(() => 1)').message).toBe("column 5: '=' is not an operator: use == to compare");
  });

  test('the parser and evaluator contain no code generation', () => {
    for (const file of ['parser.ts', 'evaluate.ts', 'expression.ts']) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
      expect(source, file).not.toMatch(/\beval\s*\(|\bFunction\s*\(|new\s+Function|node:vm|\bvm\./);
    }
  });
});

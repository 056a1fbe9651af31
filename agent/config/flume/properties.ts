/**
 * A Java Properties reader (the format of Flume's configuration files) that keeps where every key and value
 * stood, so that any later problem can name the .conf line. It follows java.util.Properties#load: `#` and `!`
 * comment lines, `=`, `:` or whitespace between key and value, a line ending in an odd number of backslashes
 * continues on the next one (whose leading whitespace is dropped), and the escapes \t \n \r \f \uXXXX and
 * `\x` for any other x. One deviation: trailing whitespace of a value is dropped (Java keeps it), because a
 * stray space after a path or a number is never meant.
 */

export interface Property {
  key: string;
  value: string;
  /** 1-based line and column of the key. */
  line: number;
  col: number;
  /** 1-based line and column where the value starts (another line when the key is continued). */
  valueLine: number;
  valueCol: number;
}

export interface PropertyProblem {
  line: number;
  col: number;
  message: string;
}

/** One character of a logical line and where it came from. */
interface Char {
  c: string;
  line: number;
  col: number;
}

const WS = new Set([' ', '\t', '\f']);

export function parseProperties(text: string): { properties: Property[]; problems: PropertyProblem[] } {
  const properties: Property[] = [];
  const problems: PropertyProblem[] = [];
  const natural = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let logical: Char[] = [];
  let continuing = false;
  for (let i = 0; i < natural.length; i++) {
    const raw = natural[i]!;
    let start = 0;
    while (start < raw.length && WS.has(raw[start]!)) start++;
    if (!continuing) {
      if (start === raw.length) continue;
      if (raw[start] === '#' || raw[start] === '!') continue;
    }
    let slashes = 0;
    for (let j = raw.length - 1; j >= start && raw[j] === '\\'; j--) slashes++;
    const end = slashes % 2 === 1 ? raw.length - 1 : raw.length;
    for (let j = start; j < end; j++) logical.push({ c: raw[j]!, line: i + 1, col: j + 1 });
    continuing = slashes % 2 === 1;
    if (!continuing || i === natural.length - 1) {
      if (logical.length) parseLogical(logical, properties, problems, i + 1);
      logical = [];
      continuing = false;
    }
  }
  return { properties, problems };
}

function parseLogical(chars: Char[], out: Property[], problems: PropertyProblem[], lastLine: number): void {
  let k = 0;
  while (k < chars.length) {
    const c = chars[k]!.c;
    if (c === '\\') k += 2;
    else if (c === '=' || c === ':' || WS.has(c)) break;
    else k++;
  }
  const keyEnd = Math.min(k, chars.length);
  let v = keyEnd;
  while (v < chars.length && WS.has(chars[v]!.c)) v++;
  if (v < chars.length && (chars[v]!.c === '=' || chars[v]!.c === ':')) v++;
  while (v < chars.length && WS.has(chars[v]!.c)) v++;
  let valueEnd = chars.length;
  while (valueEnd > v && WS.has(chars[valueEnd - 1]!.c) && !(valueEnd - 2 >= v && chars[valueEnd - 2]!.c === '\\')) valueEnd--;
  const first = chars[0]!;
  const valueStart = chars[v] ?? { line: lastLine, col: (chars[chars.length - 1]?.col ?? 0) + 1 };
  const key = unescape(chars.slice(0, keyEnd), problems);
  const value = unescape(chars.slice(v, valueEnd), problems);
  if (key === undefined || value === undefined) return;
  out.push({ key, value, line: first.line, col: first.col, valueLine: valueStart.line, valueCol: valueStart.col });
}

const SIMPLE: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(chars: Char[], problems: PropertyProblem[]): string | undefined {
  let s = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch.c !== '\\') {
      s += ch.c;
      continue;
    }
    const next = chars[++i];
    if (!next) break; // a lone trailing backslash: Java drops it
    if (next.c === 'u') {
      const hex = chars.slice(i + 1, i + 5).map((x) => x.c).join('');
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        problems.push({ line: ch.line, col: ch.col, message: `malformed \\uXXXX escape "\\u${hex}": write exactly four hexadecimal digits after \\u, or \\\\ for a backslash.` });
        return undefined;
      }
      s += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else s += SIMPLE[next.c] ?? next.c;
  }
  return s;
}

/**
 * The translated configuration as a small tree whose every node remembers the .conf position it came from, and
 * the YAML text written from it. Writing the text ourselves (instead of stringifying an object) lets each YAML line
 * be mapped back to its .conf line, so the ordinary YAML validation reports problems at the Flume file's lines.
 */
import { LineCounter, parse } from 'yaml';

/** Where a translated key came from: the .conf key and the start of its value. */
export interface Pos {
  line: number;
  col: number;
  valueLine: number;
  valueCol: number;
}

/** A YAML value written as is, e.g. `${BATCH}` so that the substituted text takes its YAML type. */
export interface Raw {
  raw: string;
}

export type Scalar = string | number | boolean | Raw;

export interface Leaf {
  kind: 'leaf';
  value: Scalar | Scalar[];
  pos: Pos;
  /** Written as a comment after the value, e.g. why a default was filled in. */
  note?: string;
}

export interface YMap {
  kind: 'map';
  entries: Map<string, YNode>;
  pos: Pos;
  note?: string;
}

export type YNode = Leaf | YMap;

export const leaf = (value: Scalar | Scalar[], pos: Pos, note?: string): Leaf => ({ kind: 'leaf', value, pos, ...(note ? { note } : {}) });
export const ymap = (pos: Pos, note?: string): YMap => ({ kind: 'map', entries: new Map(), pos, ...(note ? { note } : {}) });

/** The child map at `key`, created at `pos` when missing. */
export function child(m: YMap, key: string, pos: Pos): YMap {
  const existing = m.entries.get(key);
  if (existing?.kind === 'map') return existing;
  const created = ymap(pos);
  m.entries.set(key, created);
  return created;
}

/** Per YAML line: its .conf position and the column (0-based) where the YAML value starts. */
export interface LineOrigin {
  pos: Pos;
  valueStart: number;
}

const COMMENT_COLUMN = 56;

export function writeYaml(root: YMap, header: string[] = []): { text: string; origins: (LineOrigin | undefined)[] } {
  const lines: string[] = header.map((h) => `# ${safeComment(h)}`.trimEnd());
  const origins: (LineOrigin | undefined)[] = lines.map(() => undefined);
  const push = (text: string, origin: LineOrigin, note: string | undefined) => {
    const comment = `# line ${origin.pos.line}${note ? `: ${safeComment(note)}` : ''}`;
    lines.push(`${text.padEnd(Math.max(COMMENT_COLUMN, text.length + 2))}${comment}`);
    origins.push(origin);
  };
  const walk = (m: YMap, indent: string) => {
    for (const [key, node] of m.entries) {
      const k = `${indent}${scalar(key, false)}:`;
      if (node.kind === 'map') {
        push(k, { pos: node.pos, valueStart: k.length }, node.note);
        walk(node, `${indent}  `);
      } else {
        const v = Array.isArray(node.value) ? `[${node.value.map((x) => scalar(x, true)).join(', ')}]` : scalar(node.value, false);
        push(`${k} ${v}`, { pos: node.pos, valueStart: k.length + 1 }, node.note);
      }
    }
  };
  walk(root, '');
  return { text: `${lines.join('\n')}\n`, origins };
}

/** `${` would be substituted by the YAML loader even in a trailing comment. */
const safeComment = (s: string) => s.replace(/\$\{/g, '$ {').replace(/[\r\n]+/g, ' ');

const PLAIN = /^[A-Za-z0-9_./@+-][A-Za-z0-9_./@+:-]*$/;

function scalar(v: Scalar, inFlow: boolean): string {
  if (typeof v === 'object') return v.raw;
  if (typeof v !== 'string') return String(v);
  // Plain only when YAML would read back the same string (not a number, boolean, null or date).
  if (PLAIN.test(v) && !(inFlow && v.includes(':')) && safeParse(v) === v) return v;
  return JSON.stringify(v);
}

function safeParse(s: string): unknown {
  try {
    return parse(s);
  } catch {
    return undefined;
  }
}

/**
 * A LineCounter for the written YAML whose positions are the .conf file's: an offset before the YAML value of its
 * line maps to the .conf key, one inside the value to the .conf value.
 */
export function confLineCounter(yamlLines: LineCounter, origins: readonly (LineOrigin | undefined)[]): LineCounter {
  const mapped = new LineCounter();
  mapped.lineStarts = yamlLines.lineStarts;
  mapped.linePos = (offset: number) => {
    const { line, col } = yamlLines.linePos(offset);
    const at = toConf(origins, line, col);
    return { line: at.line ?? 0, col: at.col ?? 0 };
  };
  return mapped;
}

/** The .conf position of a 1-based YAML line and column (a header comment line maps to the line after it). */
export function toConf(origins: readonly (LineOrigin | undefined)[], line: number | undefined, col: number | undefined): { line?: number; col?: number } {
  let o: LineOrigin | undefined;
  for (let i = Math.max(0, (line ?? 0) - 1); line && !o && i < origins.length; i++) o = origins[i];
  if (!o) return {};
  return (col ?? 1) - 1 >= o.valueStart ? { line: o.pos.valueLine, col: o.pos.valueCol } : { line: o.pos.line, col: o.pos.col };
}

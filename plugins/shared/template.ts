/**
 * `%{header}` and `%[field]` substitution, compiled once into a function so per-event work is a few string
 * concatenations. A missing value makes the result undefined (the caller dead-letters the event) rather than
 * silently producing a wrong destination.
 */
import type { Event } from '../../agent/index.ts';

type Part = string | ((e: Event) => string | undefined);

export type Template = ((e: Event) => string | undefined) & { readonly constant: string | undefined };

const TOKEN = /%\{([^}]+)\}|%\[([^\]]+)\]/g;

export function compileTemplate(source: string): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    if (m.index! > last) parts.push(source.slice(last, m.index));
    const header = m[1];
    const field = m[2];
    if (header !== undefined) parts.push((e) => e.headers[header]);
    else
      parts.push((e) => {
        const v = e.field(field!);
        return v === undefined || v === null || typeof v === 'object' ? undefined : String(v);
      });
    last = m.index! + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  const constant = parts.every((p) => typeof p === 'string') ? parts.join('') : undefined;
  const fn = ((e: Event) => {
    if (constant !== undefined) return constant;
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(e);
        if (v === undefined || v === '') return undefined;
        out += v;
      }
    }
    return out;
  }) as Template;
  Object.defineProperty(fn, 'constant', { value: constant });
  return fn;
}

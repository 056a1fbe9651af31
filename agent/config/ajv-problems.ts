/**
 * Turns ajv's errors into problems a person can act on: unknown keys with the valid ones and a "did you mean",
 * missing keys with their description, wrong types with the value that was given.
 */
import type { ErrorObject } from './ajv.ts';
import { DURATION_PATTERN } from './duration.ts';
import { didYouMean, envReferenceOf } from './problems.ts';

export interface RawProblem {
  path: (string | number)[];
  message: string;
  /** Locate the key rather than the value (unknown keys). */
  atKey?: boolean;
}

function segments(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A value as a problem message shows it: short, and with the values of secret-looking keys inside it redacted. */
function showValue(v: unknown): string {
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"`;
  const text = JSON.stringify(v, (key, value: unknown) => (key !== '' && SECRET_KEY.test(key) ? '[redacted]' : value)) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isDuration(schema: unknown): boolean {
  return JSON.stringify(schema ?? '').includes(DURATION_PATTERN.replace(/\\/g, '\\\\'));
}

/** Keys whose values are never echoed back in a problem message. */
export const SECRET_KEY = /(password|passwd|token|apikey|api_key|secret|credential|privatekey)/i;

export function ajvProblems(errors: readonly ErrorObject[], base: (string | number)[]): RawProblem[] {
  const out: RawProblem[] = [];
  const show = (v: unknown, path: readonly (string | number)[]) => (path.some((p) => SECRET_KEY.test(String(p))) ? '[redacted]' : envReferenceOf(v) ?? showValue(v));
  // A failed anyOf reports every branch, a bad property name its pattern too; keep only the anyOf, the name.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'propertyNames').map((e) => e.schemaPath);
  // A value of the wrong type fails its enum too: the enum message says more (the allowed values).
  const enumPaths = new Set(errors.filter((e) => e.keyword === 'enum').map((e) => e.instancePath));
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(p))) continue;
    if (e.keyword === 'type' && enumPaths.has(e.instancePath)) continue;
    const path = [...base, ...segments(e.instancePath)];
    const parent = e.parentSchema as { properties?: Record<string, { description?: string }>; description?: string } | undefined;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const valid = Object.keys(parent?.properties ?? {});
        const guess = didYouMean(key, valid);
        out.push({
          path: [...path, key],
          atKey: true,
          message: `unknown key "${key}"${guess ? `; did you mean "${guess}"?` : '.'}${valid.length ? ` Valid keys: ${valid.join(', ')}.` : ' This object takes no keys.'}`,
        });
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        const desc = parent?.properties?.[key]?.description;
        out.push({ path, message: `missing required key "${key}"${desc ? ` (${desc})` : ''}.` });
        break;
      }
      case 'type':
        out.push({ path, message: `must be ${String((e.params as { type: string }).type).replace(',', ' or ')}, got ${show(e.data, path)}.` });
        break;
      case 'enum':
        out.push({ path, message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => showValue(v)).join(', ')}; got ${show(e.data, path)}${enumGuess(e)}.` });
        break;
      case 'anyOf':
      case 'oneOf': {
        const branches = e.schema as { required?: string[] }[];
        if (Array.isArray(branches) && branches.every((b) => b && Object.keys(b).length === 1 && Array.isArray(b.required))) {
          out.push({ path, message: `needs exactly one of: ${branches.map((b) => b.required!.join(' + ')).join(', ')}.` });
          break;
        }
        out.push({
          path,
          message: isDuration(e.schema)
            ? `invalid duration ${show(e.data, path)}: use a number or a string such as "500ms", "30s", "5m", "1h".`
            : `invalid value ${show(e.data, path)}: it matches none of the allowed forms${parent?.description ? ` (${parent.description})` : ''}.`,
        });
        break;
      }
      case 'if':
        break; // the failing "then" branch reports the actual problem
      case 'const': {
        const desc = (parent as { description?: string } | undefined)?.description;
        out.push({ path, message: `must be ${showValue((e.params as { allowedValue: unknown }).allowedValue)} here, got ${show(e.data, path)}${desc ? ` (${desc})` : ''}.` });
        break;
      }
      case 'propertyNames': {
        const name = String((e.params as { propertyName: string }).propertyName);
        const pattern = (e.schema as { pattern?: string } | undefined)?.pattern;
        const rule = pattern === '^[A-Za-z0-9_.-]+$' ? 'names may use only letters, digits, "_", "." and "-"' : pattern ? `names must match ${pattern}` : 'see the documentation for valid names';
        out.push({ path: [...path, name], atKey: true, message: `invalid name "${name}": ${rule}.` });
        break;
      }
      // ajv says "must NOT have fewer than 1 properties": of what, and why?
      case 'minLength':
      case 'minProperties': {
        const limit = (e.params as { limit: number }).limit;
        const desc = parent?.description;
        if (e.keyword === 'minLength') out.push({ path, message: limit === 1 ? 'must not be empty.' : `must be at least ${limit} characters long.` });
        else out.push({ path, message: `must have at least ${limit} ${limit === 1 ? 'entry' : 'entries'}${desc ? ` (${desc})` : ''}.` });
        break;
      }
      case 'format':
        out.push({ path, message: (e.params as { format: string }).format === 'regex' ? `invalid regular expression ${show(e.data, path)}.` : `must be a valid ${(e.params as { format: string }).format}, got ${show(e.data, path)}.` });
        break;
      default:
        out.push({ path, message: `${e.message ?? 'is invalid'}; got ${show(e.data, path)}.` });
    }
  }
  return out;
}

function enumGuess(e: ErrorObject): string {
  if (typeof e.data !== 'string') return '';
  const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.filter((v): v is string => typeof v === 'string');
  const g = didYouMean(e.data, allowed);
  return g ? `; did you mean "${g}"?` : '';
}

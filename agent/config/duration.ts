/**
 * Durations in config: a number (in the unit the key names) or a string with a unit: `500ms`, `30s`, `5m`, `1h`,
 * `1d`. Schemas use `durationSchema` so the docs say which forms are accepted.
 */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$';

/** JSON Schema for a duration key. `unit` is the unit of a bare number. */
export function durationSchema(description: string, unit: 'ms' | 's', defaultValue?: string | number) {
  const schema: Record<string, unknown> = {
    description: `${description} A number of ${unit === 'ms' ? 'milliseconds' : 'seconds'}, or a string such as "500ms", "30s", "5m", "1h".`,
    anyOf: [
      { type: 'number', minimum: 0 },
      { type: 'string', pattern: DURATION_PATTERN },
    ],
  };
  if (defaultValue !== undefined) schema.default = defaultValue;
  return schema;
}

/** Milliseconds of a duration value; bare numbers are in `unit`. Throws on an invalid string. */
export function toMillis(value: string | number, unit: 'ms' | 's' = 'ms'): number {
  if (typeof value === 'number') return unit === 's' ? value * 1000 : value;
  const m = PATTERN.exec(value);
  if (!m) throw new Error(`Invalid duration "${value}": use a number or a string such as "500ms", "30s", "5m", "1h".`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

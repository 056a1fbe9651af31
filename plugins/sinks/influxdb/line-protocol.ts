/**
 * InfluxDB line protocol, written by hand: `measurement,tag=v,tag=v field=v,field=v time`. Building the text
 * ourselves is a few string concatenations per point and lets every value that cannot be represented be refused
 * here, with a reason, instead of producing a line the server drops or misreads.
 *
 * Escaping (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/#special-characters):
 * measurement: comma and space; tag keys, tag values and field keys: comma, equals sign and space; string field
 * values: double quote and backslash. Line breaks cannot be escaped in names or tag values, so they are refused;
 * InfluxDB keeps them inside quoted string fields (QuestDB refuses them, and then says so per point).
 */

/** A value that cannot become part of a point; `reason` is the dead-letter reason. */
export class PointError extends Error {
  constructor(
    readonly reason: 'invalid-measurement' | 'invalid-tag' | 'invalid-field' | 'no-fields' | 'invalid-timestamp' | 'malformed-json' | 'not-an-object',
    message: string,
  ) {
    super(message);
    this.name = 'PointError';
  }
}

const LINE_BREAK = /[\r\n]/;
const MEASUREMENT_SPECIAL = /[, ]/g;
const KEY_SPECIAL = /[,= ]/g;
const STRING_SPECIAL = /["\\]/g;

/** Largest and smallest int64, the range of an InfluxDB integer field. */
const INT64_MAX = 9223372036854775807;

export function escapeMeasurement(name: string): string {
  if (name.length === 0) throw new PointError('invalid-measurement', 'the measurement name is empty');
  if (LINE_BREAK.test(name)) throw new PointError('invalid-measurement', `measurement ${JSON.stringify(name)} contains a line break`);
  // A line that starts with "#" is a comment: the server would answer 204 and keep nothing.
  if (name[0] === '#') throw new PointError('invalid-measurement', `measurement ${JSON.stringify(name)} starts with "#", which makes the line a comment`);
  return name.replace(MEASUREMENT_SPECIAL, '\\$&');
}

/** Escapes a tag key, tag value or field key. */
export function escapeKey(text: string, what = 'tag'): string {
  if (LINE_BREAK.test(text)) throw new PointError(what === 'field key' ? 'invalid-field' : 'invalid-tag', `${what} ${JSON.stringify(text)} contains a line break`);
  // A trailing backslash would escape the separator after it and shift every following key and value.
  if (text.endsWith('\\')) throw new PointError(what === 'field key' ? 'invalid-field' : 'invalid-tag', `${what} ${JSON.stringify(text)} ends with a backslash`);
  return text.replace(KEY_SPECIAL, '\\$&');
}

export function escapeString(text: string): string {
  return `"${text.replace(STRING_SPECIAL, '\\$&')}"`;
}

/**
 * The text of a tag value, or undefined when the tag is left out: InfluxDB has no empty or null tag values, so
 * null, undefined and "" omit the tag (the point belongs to the series without it). Numbers and booleans become
 * their text; objects and arrays are refused.
 */
export function tagValue(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return escapeKey(value, `tag ${name} value`);
  if (typeof value === 'number' || typeof value === 'boolean') return escapeKey(String(value), `tag ${name} value`);
  throw new PointError('invalid-tag', `tag ${name} holds ${Array.isArray(value) ? 'an array' : 'an object'}; tags take strings, numbers or booleans`);
}

/**
 * The text of a field value, or undefined when the field is absent (null or undefined: the point is written
 * without it). Numbers are floats unless `integer` (then `123i`, and a value that is not an int64 is refused);
 * booleans and strings keep their types. NaN and ±Infinity cannot be stored and are refused.
 */
export function fieldValue(name: string, value: unknown, integer: boolean): string | undefined {
  if (value === undefined || value === null) return undefined;
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new PointError('invalid-field', `field ${name} is ${value}, which InfluxDB cannot store`);
      if (!integer) return String(value);
      if (!Number.isInteger(value) || Math.abs(value) > INT64_MAX) throw new PointError('invalid-field', `field ${name} is ${value}, not an integer (it is listed in integerFields)`);
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      if (integer) throw new PointError('invalid-field', `field ${name} is the string ${JSON.stringify(value.slice(0, 40))}, not an integer (it is listed in integerFields)`);
      return escapeString(value);
    default:
      throw new PointError('invalid-field', `field ${name} holds ${Array.isArray(value) ? 'an array' : 'an object'}; fields take numbers, booleans or strings`);
  }
}

/** The series key (escaped measurement and tags, tags sorted by key as InfluxDB stores them) of a point. */
export function seriesKey(measurement: string, tags: readonly (readonly [string, string])[]): string {
  let key = measurement;
  for (const [k, v] of tags) key += `,${k}=${v}`;
  return key;
}

/** One line of line protocol from escaped parts; `time` in the write precision, or undefined for server time. */
export function formatLine(series: string, fields: readonly (readonly [string, string])[], time?: bigint): string {
  if (fields.length === 0) throw new PointError('no-fields', 'the point has no field values');
  let line = series + ' ';
  for (let i = 0; i < fields.length; i++) line += (i ? ',' : '') + fields[i]![0] + '=' + fields[i]![1];
  return time === undefined ? line : `${line} ${time}`;
}

/**
 * One ajv instance for the framework: every error collected, defaults filled in, formats (regex, date-time, uri)
 * checked. Compiled validators are cached per schema object.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as formats from 'ajv-formats';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = ((formats as unknown as { default: AddFormats | { default: AddFormats } }).default as { default?: AddFormats }).default ??
  ((formats as unknown as { default: AddFormats }).default);

export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

const shared = createAjv();
const cache = new WeakMap<object, ValidateFunction>();

export function compile(schema: object): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = shared.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

export type { ErrorObject };

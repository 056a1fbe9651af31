import { Ajv } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import { describe, expect, test } from 'vitest';
import { testContext } from '../../agent/testing/context.ts';
import plugin, { type SpoolDirConfig } from './spooldir.ts';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((ajvFormats as unknown as { default: AddFormats & { default?: AddFormats } }).default.default ??
  (ajvFormats as unknown as { default: AddFormats }).default);

function validator() {
  const ajv = new Ajv({ useDefaults: true, strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(plugin.schema);
}

const properties = plugin.schema.properties as Record<string, Record<string, unknown>>;

describe('spooldir plugin definition', () => {
  test('identity and a schema that documents every key', () => {
    expect(plugin.kind).toBe('source');
    expect(plugin.type).toBe('spooldir');
    expect(plugin.description.length).toBeGreaterThan(20);
    expect(plugin.schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['spoolDir'] });
    for (const [key, prop] of Object.entries(properties)) {
      expect(typeof prop.description, key).toBe('string');
      expect((prop.description as string).length, key).toBeGreaterThan(10);
    }
    for (const framework of ['type', 'channels', 'processors', 'selector']) expect(properties[framework]).toBeUndefined();
  });

  test('defaults match the documented ones', () => {
    const validate = validator();
    const cfg: Record<string, unknown> = { spoolDir: '/x' };
    expect(validate(cfg)).toBe(true);
    expect(cfg).toEqual({
      spoolDir: '/x', fileSuffix: '.COMPLETED', deletePolicy: 'never', fileHeader: false, fileHeaderKey: 'file',
      basenameHeader: false, basenameHeaderKey: 'basename', includePattern: '^.*$', ignorePattern: '^$',
      trackerDir: '.flumespool', consumeOrder: 'oldest', pollDelay: 500, recursiveDirectorySearch: false,
      batchSize: 100, inputCharset: 'UTF-8', maxLineLength: 1048576, format: 'json', fileStableMs: 1000,
    });
  });

  test('the schema rejects unknown keys, bad enums and a bad regex', () => {
    const validate = validator();
    expect(validate({})).toBe(false);
    expect(validate({ spoolDir: '/x', nope: 1 })).toBe(false);
    expect(validate({ spoolDir: '/x', deletePolicy: 'later' })).toBe(false);
    expect(validate({ spoolDir: '/x', batchSize: 0 })).toBe(false);
    expect(validate({ spoolDir: '/x', includePattern: '(' })).toBe(false);
    expect(validate({ spoolDir: '/x', pollDelay: '2s', fileStableMs: '1.5s' })).toBe(true);
  });

  test('create() checks regexes and the charset itself, with clear messages', () => {
    const ctx = testContext('source', 'spooldir', { name: 'in' });
    const base = validatedConfig({ spoolDir: 'spool' });
    expect(() => plugin.create({ ...base, includePattern: '([' }, ctx)).toThrow(/includePattern "\(\[" is not a valid regular expression/);
    expect(() => plugin.create({ ...base, ignorePattern: '*' }, ctx)).toThrow(/ignorePattern/);
    expect(() => plugin.create({ ...base, inputCharset: 'EBCDIC-klingon' }, ctx)).toThrow(/inputCharset "EBCDIC-klingon"/);
    expect(plugin.create({ ...base, inputCharset: 'latin1' }, ctx)).toHaveProperty('run');
  });

  test('lint reports a charset this runtime cannot decode, so validate finds it before run', () => {
    expect(plugin.lint!(validatedConfig({ spoolDir: 'spool', inputCharset: 'EBCDIC-klingon' }))).toEqual([
      { key: 'inputCharset', message: '"EBCDIC-klingon" is not an encoding this runtime can decode: use a WHATWG label such as "UTF-8", "latin1" or "ascii".' },
    ]);
    expect(plugin.lint!(validatedConfig({ spoolDir: 'spool', inputCharset: 'latin1' }))).toEqual([]);
  });

  test('a relative spoolDir resolves against the config directory', async () => {
    const ctx = testContext('source', 'spooldir', { configDir: '/etc/agent' });
    const source = (await plugin.create(validatedConfig({ spoolDir: 'spool', pollDelay: '2s' }), ctx)) as unknown as { o: { spoolDir: string; trackerDir: string; pollDelayMs: number } };
    expect(source.o).toMatchObject({ spoolDir: '/etc/agent/spool', trackerDir: '/etc/agent/spool/.flumespool', pollDelayMs: 2000 });
  });
});

function validatedConfig(cfg: Record<string, unknown>): SpoolDirConfig {
  const validate = validator();
  if (!validate(cfg)) throw new Error('invalid test config');
  return cfg as unknown as SpoolDirConfig;
}

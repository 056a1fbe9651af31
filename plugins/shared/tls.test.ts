import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTls, tlsProblems, tlsSchema } from './tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'fta-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tls block', () => {
  it('reads the PEM files relative to the config directory', () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'c.key'), 'KEY');
    expect(loadTls({ caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'c.key', rejectUnauthorized: true }, dir))
      .toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true });
    expect(loadTls({ rejectUnauthorized: false }, dir)).toEqual({ rejectUnauthorized: false });
  });

  it('names the key and the resolved path of a file it cannot read', () => {
    expect(() => loadTls({ caFile: 'missing.pem', rejectUnauthorized: true }, dir)).toThrow(`tls.caFile: cannot read ${join(dir, 'missing.pem')}: ENOENT`);
  });

  it('wants certFile and keyFile together', () => {
    expect(tlsProblems({ certFile: 'c.pem', rejectUnauthorized: true })).toEqual(['certFile and keyFile go together (mutual TLS needs both)']);
    expect(tlsProblems({ keyFile: 'c.key', rejectUnauthorized: true })).toHaveLength(1);
    expect(tlsProblems({ certFile: 'c.pem', keyFile: 'c.key', rejectUnauthorized: true })).toEqual([]);
    expect(tlsProblems(undefined)).toEqual([]);
  });

  it('rejects unknown keys and fills rejectUnauthorized: true', () => {
    const validate = new Ajv({ useDefaults: true }).compile(tlsSchema('server', 'TLS.'));
    const ok: Record<string, unknown> = { caFile: 'ca.pem' };
    expect(validate(ok)).toBe(true);
    expect(ok.rejectUnauthorized).toBe(true);
    expect(validate({ ca: 'inline PEM' })).toBe(false);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authProblems, clientOptions, nodeList, type ConnectionConfig } from './client.ts';

const dir = mkdtempSync(join(tmpdir(), 'fta-es-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base: ConnectionConfig = { nodes: ['http://127.0.0.1:9200'], requestTimeoutMs: 30000, maxRetries: 2, compression: false };

describe('elasticsearch client options', () => {
  it('splits comma-separated node lists, so one ${ES_NODES} can hold several', () => {
    expect(nodeList(['http://a:9200, http://b:9200', 'https://c:9243', ''])).toEqual(['http://a:9200', 'http://b:9200', 'https://c:9243']);
  });

  it('reads secrets from files relative to the config, without the trailing newline', () => {
    writeFileSync(join(dir, 'key'), 'c2VjcmV0OmtleQ==\n');
    writeFileSync(join(dir, 'pw'), 'hunter2\r\n');
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    expect(clientOptions({ ...base, auth: { apiKeyFile: 'key' } }, dir, 'n').auth).toEqual({ apiKey: 'c2VjcmV0OmtleQ==' });
    expect(clientOptions({ ...base, auth: { username: 'u', passwordFile: 'pw' } }, dir, 'n').auth).toEqual({ username: 'u', password: 'hunter2' });
    expect(clientOptions({ ...base, auth: { apiKey: 'k' } }, dir, 'n').auth).toEqual({ apiKey: 'k' });
    expect(clientOptions({ ...base, tls: { caFile: 'ca.pem', rejectUnauthorized: false } }, dir, 'n').tls).toEqual({ ca: 'PEM', rejectUnauthorized: false });
  });

  it('treats an empty ${ES_API_KEY:-} as no credentials', () => {
    expect(clientOptions({ ...base, auth: { apiKey: '' } }, dir, 'n').auth).toBeUndefined();
    expect(authProblems({ apiKey: '' })).toEqual([]);
  });

  it('passes timeouts and retries to the client and keeps authorization out of errors', () => {
    expect(clientOptions(base, dir, 'fintrans-agent/es')).toMatchObject({ nodes: ['http://127.0.0.1:9200'], name: 'fintrans-agent/es', requestTimeout: 30000, maxRetries: 2, compression: false, redaction: { type: 'replace' } });
  });

  it('reports contradictory or incomplete credentials', () => {
    expect(authProblems({ apiKey: 'k', username: 'u', password: 'p' })).toEqual(['give either apiKey/apiKeyFile or username with password/passwordFile, not both']);
    expect(authProblems({ username: 'u' })).toEqual(['password or passwordFile is required with username']);
    expect(authProblems({ password: 'p' })).toEqual(['username is required with password/passwordFile']);
    expect(authProblems({ apiKey: 'k', apiKeyFile: 'f' })).toEqual(['give apiKey or apiKeyFile, not both']);
    expect(authProblems(undefined)).toEqual([]);
  });
});

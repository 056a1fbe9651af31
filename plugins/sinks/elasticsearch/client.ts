/**
 * The connection keys of the sink's schema and the @elastic/elasticsearch (8.x) client options built from them.
 * Secrets (API key, password) come from `${ENV}` values or `*File` keys; files resolve against the config file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientOptions } from '@elastic/elasticsearch';
import { loadTls, tlsSchema, type TlsConfig } from '../../shared/tls.ts';

export interface AuthConfig {
  apiKey?: string;
  apiKeyFile?: string;
  username?: string;
  password?: string;
  passwordFile?: string;
}

export interface ConnectionConfig {
  nodes: string[];
  auth?: AuthConfig;
  tls?: TlsConfig;
  requestTimeoutMs: number;
  maxRetries: number;
  compression: boolean;
}

export const connectionSchema = {
  nodes: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', pattern: '^\\s*https?://', description: 'A node URL.' },
    description: 'Node URLs (http:// or https://); an entry may hold several separated by commas, so one ${ES_NODES} can list them all. Requests rotate across them and move on from a node that fails.',
  },
  auth: {
    type: 'object',
    additionalProperties: false,
    description: 'Credentials: apiKey (the base64 "encoded" value Elasticsearch returns), or username and password. Give secrets as ${ENV_VAR} or in a file (apiKeyFile, passwordFile).',
    properties: {
      apiKey: { type: 'string', description: 'API key (base64 of id:key); give it as ${ENV_VAR}, or use apiKeyFile.' },
      apiKeyFile: { type: 'string', description: 'File holding the API key (trailing newline ignored), relative to the config file.' },
      username: { type: 'string', description: 'User for basic authentication.' },
      password: { type: 'string', description: 'Password; give it as ${ENV_VAR}, or use passwordFile.' },
      passwordFile: { type: 'string', description: 'File holding the password (trailing newline ignored), relative to the config file.' },
    },
  },
  tls: tlsSchema('node', 'TLS for https:// nodes (e.g. caFile: config/certs/http_ca.crt of the cluster).'),
  requestTimeoutMs: { type: 'integer', minimum: 100, default: 30000, description: 'Milliseconds to wait for a bulk response before the batch is rolled back and retried.' },
  maxRetries: { type: 'integer', minimum: 0, default: 2, description: 'Times the client retries a request on another node after a connection error or 502/503/504, inside one write.' },
  compression: { type: 'boolean', default: false, description: 'Gzip request bodies (less network, more CPU).' },
} as const;

/** The problems of an auth block that the schema cannot express. */
export function authProblems(auth: AuthConfig | undefined): string[] {
  if (!auth) return [];
  const key = Boolean(auth.apiKey || auth.apiKeyFile);
  const basic = Boolean(auth.username || auth.password || auth.passwordFile);
  const out: string[] = [];
  if (key && basic) out.push('give either apiKey/apiKeyFile or username with password/passwordFile, not both');
  if (auth.apiKey && auth.apiKeyFile) out.push('give apiKey or apiKeyFile, not both');
  if (auth.password && auth.passwordFile) out.push('give password or passwordFile, not both');
  if (basic && !auth.username) out.push('username is required with password/passwordFile');
  if (auth.username && !(auth.password || auth.passwordFile)) out.push('password or passwordFile is required with username');
  return out;
}

/** Every node URL, the comma-separated entries split. */
export function nodeList(nodes: readonly string[]): string[] {
  return nodes.flatMap((n) => n.split(',')).map((n) => n.trim()).filter((n) => n.length > 0);
}

export function clientOptions(config: ConnectionConfig, configDir: string, name: string): ClientOptions {
  const read = (f: string) => readFileSync(resolve(configDir, f), 'utf8');
  const secret = (f: string) => read(f).replace(/\r?\n$/, '');
  const options: ClientOptions = {
    nodes: nodeList(config.nodes),
    name,
    requestTimeout: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    compression: config.compression,
    // Authorization headers never reach error objects, so they never reach logs.
    redaction: { type: 'replace' },
  };
  const a = config.auth;
  if (a?.apiKey || a?.apiKeyFile) options.auth = { apiKey: a.apiKeyFile ? secret(a.apiKeyFile) : a.apiKey! };
  else if (a?.username) options.auth = { username: a.username, password: a.passwordFile ? secret(a.passwordFile) : (a.password ?? '') };
  if (config.tls) options.tls = loadTls(config.tls, configDir);
  return options;
}

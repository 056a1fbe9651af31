/**
 * What the Kafka source and sink share: the connection keys of their schemas and the kafkajs client built from
 * them. TLS files and SASL passwords come from `*File` keys or `${ENV}` values, never from literals in logs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import kafkajs, { type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { ComponentContext } from '../../agent/index.ts';
import { registerCodecs } from './kafka-codecs.ts';
import { loadTls, tlsSchema, type TlsConfig } from './tls.ts';

export const connectionSchema = {
  bootstrapServers: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'Brokers to bootstrap from, host:port.' },
  clientId: { type: 'string', default: 'fintrans-agent', description: 'Client id sent to the brokers.' },
  ssl: {
    description: 'TLS: true for the system CAs, or files (paths relative to the config file).',
    anyOf: [
      { type: 'boolean' },
      tlsSchema('broker', 'TLS with the given files.'),
    ],
  },
  sasl: {
    type: 'object',
    additionalProperties: false,
    required: ['mechanism', 'username'],
    description: 'SASL authentication.',
    properties: {
      mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism.' },
      username: { type: 'string', description: 'User name.' },
      password: { type: 'string', description: 'Password; give it as ${ENV_VAR}, or use passwordFile.' },
      passwordFile: { type: 'string', description: 'File holding the password (trailing newline ignored).' },
    },
  },
  connectionTimeoutMs: { type: 'integer', minimum: 100, default: 3000, description: 'Milliseconds to wait for a broker connection.' },
  requestTimeoutMs: { type: 'integer', minimum: 100, default: 30000, description: 'Milliseconds to wait for a broker response.' },
} as const;

export interface ConnectionConfig {
  bootstrapServers: string[];
  clientId: string;
  ssl?: boolean | TlsConfig;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password?: string; passwordFile?: string };
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

/** kafkajs logs through pino at the component's logger, at warn and above. */
function logCreator(ctx: ComponentContext) {
  return () =>
    ({ level, log }: { level: number; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log;
      // The runner, not the client, owns retries: kafkajs's warning about limited idempotent retries is expected.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      if (level <= 1) ctx.log.error({ kafka: rest }, `Kafka client: ${message}`);
      else if (level === 2) ctx.log.warn({ kafka: rest }, `Kafka client: ${message}`);
    };
}

export function createKafka(config: ConnectionConfig, ctx: ComponentContext): InstanceType<typeof kafkajs.Kafka> {
  registerCodecs();
  const read = (f: string) => readFileSync(resolve(ctx.configDir, f), 'utf8');
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.bootstrapServers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: kafkajs.logLevel.WARN,
    logCreator: logCreator(ctx),
    // The runners own retries and backoff; the client retries only briefly inside one attempt.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  };
  if (config.ssl === true) options.ssl = true;
  else if (config.ssl) {
    const tls = loadTls(config.ssl, ctx.configDir);
    // kafkajs passes these to tls.connect; a list of CAs is what it documents.
    options.ssl = { ...tls, ...(tls.ca ? { ca: [tls.ca] } : {}) };
  }
  if (config.sasl) {
    const password = config.sasl.passwordFile ? read(config.sasl.passwordFile).replace(/\r?\n$/, '') : (config.sasl.password ?? '');
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password } as SASLOptions;
  }
  return new kafkajs.Kafka(options);
}

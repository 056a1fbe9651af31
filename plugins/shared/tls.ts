/**
 * The `tls` block every network plugin accepts (Kafka's `ssl`, and `tls` of the Elasticsearch, InfluxDB and HDFS
 * sinks): one schema, so the keys, their descriptions and the generated docs are the same everywhere, and one
 * loader that reads the PEM files relative to the config file when the component starts.
 *
 * Only file paths are configured: a private key never sits in the YAML, and nothing here is ever logged.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface TlsConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
}

/** What node:tls (and every client built on it) takes: PEM strings, loaded once. */
export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** The schema of a `tls` block; `server` names the peer in the descriptions ("broker", "server"...). */
export function tlsSchema(server: string, description: string) {
  return {
    type: 'object',
    additionalProperties: false,
    description,
    properties: {
      caFile: { type: 'string', description: `PEM file of the CA(s) to trust for the ${server} certificate, relative to the config file (default: the system CAs).` },
      certFile: { type: 'string', description: 'PEM client certificate, for mutual TLS (with keyFile).' },
      keyFile: { type: 'string', description: 'PEM private key of the client certificate (with certFile).' },
      rejectUnauthorized: { type: 'boolean', default: true, description: `Verify the ${server} certificate (keep true outside tests).` },
    },
  } as const;
}

/** The problems of a `tls` block that the schema cannot express. */
export function tlsProblems(tls: TlsConfig | undefined): string[] {
  if (!tls) return [];
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) return ['certFile and keyFile go together (mutual TLS needs both)'];
  return [];
}

/**
 * Reads the files of a `tls` block. A missing or unreadable file throws with its resolved path, so the start
 * fails with an error that names what to fix.
 */
export function loadTls(tls: TlsConfig, configDir: string): TlsOptions {
  const read = (key: string, f: string) => {
    const path = resolve(configDir, f);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`tls.${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caFile ? { ca: read('caFile', tls.caFile) } : {}),
    ...(tls.certFile ? { cert: read('certFile', tls.certFile) } : {}),
    ...(tls.keyFile ? { key: read('keyFile', tls.keyFile) } : {}),
  };
}

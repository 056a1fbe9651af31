/**
 * Test PKI for the TLS listeners of the servers: a CA, a server certificate for 127.0.0.1 and localhost, and a
 * client certificate (for mutual TLS), generated once with `openssl` into `.servers/tls/` and shared by every
 * server that serves TLS. Kafka (Java) gets the server key as a PKCS12 keystore and the CA as a PEM truststore;
 * Node clients use the PEM files.
 *
 * The keystore password is random per generation and kept in a file: nothing here is a published credential, and
 * nothing secret is passed on a command line (openssl reads it from `file:`), so none of it reaches tools.log.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './fetch.ts';
import { STATE_ROOT, ServerUnavailable, type Ctx } from './layout.ts';

export const TLS_DIR = join(STATE_ROOT, 'tls');

/** Paths of the generated files (they exist after `ensureTls`). */
export const tlsFiles = {
  dir: TLS_DIR,
  caCert: join(TLS_DIR, 'ca.pem'),
  serverCert: join(TLS_DIR, 'server.pem'),
  serverKey: join(TLS_DIR, 'server.key'),
  clientCert: join(TLS_DIR, 'client.pem'),
  clientKey: join(TLS_DIR, 'client.key'),
  /** PKCS12 keystore holding the server key and certificate chain (alias `server`). */
  serverKeystore: join(TLS_DIR, 'server.p12'),
  /** Password of `serverKeystore` (one line). */
  keystorePassword: join(TLS_DIR, 'keystore.password'),
} as const;

/** Bump when the set of files or their contents change, so old states are regenerated. */
const GENERATION = 'v1';
const DAYS = '3650';

function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

export function keystorePassword(): string {
  return readFileSync(tlsFiles.keystorePassword, 'utf8').trim();
}

/**
 * Generates the PKI unless a complete one is there. Written into a temporary directory and renamed into place,
 * so concurrent callers (different servers' locks) and interrupted runs never see a half-made set.
 */
export async function ensureTls(ctx: Ctx): Promise<typeof tlsFiles> {
  const marker = join(TLS_DIR, '.generated');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === GENERATION) return tlsFiles;
  if (!hasOpenssl()) throw new ServerUnavailable('openssl is needed to generate the test certificates: apt-get install -y openssl');
  const tmp = `${TLS_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const f = (name: string) => join(tmp, name);
  const ssl = (...args: string[]) => run(ctx, 'openssl', args, tmp);
  writeFileSync(f('keystore.password'), `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  writeFileSync(
    f('ext.cnf'),
    `[ca]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[server]
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
[client]
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
`,
  );
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', DAYS,
    '-subj', '/CN=fintrans-agent test CA', '-extensions', 'ca', '-config', 'ext.cnf');
  for (const [who, cn] of [['server', 'localhost'], ['client', 'fintrans-agent-client']] as const) {
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${cn}`);
    await ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`,
      '-days', DAYS, '-extfile', 'ext.cnf', '-extensions', who);
  }
  await ssl('pkcs12', '-export', '-in', 'server.pem', '-inkey', 'server.key', '-certfile', 'ca.pem', '-name', 'server',
    '-out', 'server.p12', '-passout', `file:${f('keystore.password')}`);
  for (const name of ['server.csr', 'client.csr', 'ca.srl', 'ext.cnf']) rmSync(f(name));
  writeFileSync(f('.generated'), GENERATION);
  // Another process may have finished first; a server may already run with its set, so it is kept.
  if (existsSync(marker) && readFileSync(marker, 'utf8') === GENERATION) {
    rmSync(tmp, { recursive: true, force: true });
    return tlsFiles;
  }
  rmSync(TLS_DIR, { recursive: true, force: true });
  renameSync(tmp, TLS_DIR);
  ctx.log(`generated the test CA and certificates in ${TLS_DIR}`);
  return tlsFiles;
}

/**
 * Shared types and the on-disk layout of the server harness.
 *
 * Everything a server needs at run time lives under `.servers/<name>/` inside the repository (git-ignored):
 * `libs/` (fetched jars or extracted packages), `conf/`, `data/`, `logs/` and `run/` (PID files). Downloads are
 * additionally cached outside the clone (Maven's `~/.m2/repository`, `~/.cache/fintrans-agent/debs`) so a fresh
 * clone on the same machine only copies files instead of downloading them again.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const STATE_ROOT = process.env.SERVERS_DIR ? resolve(process.env.SERVERS_DIR) : join(REPO_ROOT, '.servers');
/** Maven's own default local repository, shared by every clone on the machine (override to isolate). */
export const MAVEN_REPO = process.env.SERVERS_MAVEN_REPO
  ? resolve(process.env.SERVERS_MAVEN_REPO)
  : join(homedir(), '.m2', 'repository');
/** Where downloaded .deb files are kept between clones (apt-get download does not use apt's own cache). */
export const DEB_CACHE = process.env.SERVERS_DEB_CACHE
  ? resolve(process.env.SERVERS_DEB_CACHE)
  : join(homedir(), '.cache', 'fintrans-agent', 'debs');

/** A prerequisite is missing (no Java, no Maven): local test runs skip the tests that need it, CI fails. */
export class ServerUnavailable extends Error {}

/** Per-server directories (created by `createDirs`). */
export interface Ctx {
  readonly name: string;
  readonly dir: string;
  readonly libs: string;
  readonly conf: string;
  readonly data: string;
  readonly logs: string;
  readonly run: string;
  /** Absolute path of the `java` binary (empty string for servers that do not need Java). */
  readonly java: string;
  /** Progress output for humans (stderr), prefixed with the server name. */
  log(message: string): void;
}

/** One OS process of a server (HDFS has two: NameNode and DataNode). */
export interface ProcSpec {
  readonly id: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Run as this uid/gid (Elasticsearch refuses to run as root). */
  readonly uid?: number;
  readonly gid?: number;
}

export interface ServerDef {
  readonly name: string;
  /** Human-readable pinned version, shown by `status` and recorded with the fetched files. */
  readonly version: string;
  /** Ports the server binds on 127.0.0.1; the first one is its main port. */
  readonly ports: readonly number[];
  readonly needsJava: boolean;
  /** How long a cold start may take before it counts as failed. */
  readonly readyTimeoutMs: number;
  /** Downloads and unpacks the pinned version once; must be a cheap no-op when already done. */
  fetch(ctx: Ctx): Promise<void>;
  /** Writes configuration files; with `fresh`, wipes and re-initialises the data directory. */
  configure(ctx: Ctx, fresh: boolean): Promise<void>;
  processes(ctx: Ctx): ProcSpec[];
  /** Real readiness probe: resolves `true` when ready, otherwise a short reason (the last one is reported). */
  ready(ctx: Ctx): Promise<true | string>;
}

export function serverDir(name: string): string {
  return join(STATE_ROOT, name);
}

export function makeCtx(name: string, java: string): Ctx {
  const dir = serverDir(name);
  const ctx: Ctx = {
    name,
    dir,
    libs: join(dir, 'libs'),
    conf: join(dir, 'conf'),
    data: join(dir, 'data'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
    java,
    log: (message) => process.stderr.write(`[servers] ${name}: ${message}\n`),
  };
  return ctx;
}

export function createDirs(ctx: Ctx): void {
  for (const d of [ctx.libs, ctx.conf, ctx.data, ctx.logs, ctx.run]) mkdirSync(d, { recursive: true });
}

/**
 * Fetching pinned server binaries once: jars (and the Elasticsearch zip) from Maven Central with `mvn`, and
 * Debian packages with `apt-get download` + `dpkg-deb -x` (unpacked into `.servers/<name>/libs`, so nothing is
 * installed system-wide and no maintainer scripts or systemd units run).
 *
 * A `.fetched` file next to the files records what was fetched; a changed pin fetches again. Files are fetched
 * into a temporary directory and renamed into place, so an interrupted fetch never looks complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEB_CACHE, MAVEN_REPO, ServerUnavailable, type Ctx } from './layout.ts';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** Runs a command, appending its output to `logs/tools.log`; rejects with the end of its output when it fails. */
export function run(ctx: Ctx, cmd: string, args: string[], cwd = ctx.dir): Promise<void> {
  const log = join(ctx.logs, 'tools.log');
  writeFileSync(log, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      const output = Buffer.concat(out);
      writeFileSync(log, output, { flag: 'a' });
      if (code === 0) return resolve();
      const last = output.toString('utf8').trimEnd().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}); full output in ${log}:\n${last}`));
    });
  });
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

/** Calls `produce(tmpDir)` unless `target` already holds exactly `what`; then moves the result into place. */
async function fetchOnce(ctx: Ctx, target: string, what: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  const marker = join(target, '.fetched');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === what) return;
  const tmp = `${target}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  await produce(tmp);
  const mb = (dirBytes(tmp) / 1e6).toFixed(0);
  writeFileSync(join(tmp, '.fetched'), what);
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  ctx.log(`fetched ${mb} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${target}`);
}

/** A Maven coordinate `group:artifact:version[:type]` (type `test-jar` means the `tests` classifier). */
function dependencyXml(coord: string, exclusions: readonly string[]): string {
  const [g, a, v, type] = coord.split(':');
  const excl = exclusions.map((e) => {
    const [eg, ea] = e.split(':');
    return `<exclusion><groupId>${eg}</groupId><artifactId>${ea}</artifactId></exclusion>`;
  });
  return `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version>${
    type ? `<type>${type}</type>` : ''
  }${excl.length ? `<exclusions>${excl.join('')}</exclusions>` : ''}</dependency>`;
}

export interface MavenFetch {
  readonly deps: readonly string[];
  /** `group:artifact` pairs excluded from every dependency's transitive closure. */
  readonly exclusions?: readonly string[];
  /** Copy only the listed artifacts (for a self-contained jar or a distribution zip). */
  readonly transitive?: boolean;
  readonly into?: string;
}

/** Copies the runtime closure of `deps` into `into` (default `libs/`), via a generated throw-away POM. */
export async function fetchMaven(ctx: Ctx, spec: MavenFetch): Promise<void> {
  const into = spec.into ?? ctx.libs;
  await fetchOnce(ctx, into, JSON.stringify(spec), async (tmp) => {
    if (!hasCommand('mvn')) throw new ServerUnavailable('mvn (Maven 3) is needed to fetch server jars: apt-get install -y maven');
    const pom = join(ctx.dir, 'pom.xml');
    writeFileSync(
      pom,
      `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.fintrans-agent.servers</groupId><artifactId>${ctx.name}</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${spec.deps.map((d) => dependencyXml(d, spec.exclusions ?? [])).join('\n')}
  </dependencies>
</project>
`,
    );
    ctx.log(`fetching ${spec.deps.join(', ')} with mvn (local repository ${MAVEN_REPO})`);
    await run(ctx, 'mvn', [
      '-B', '-q', `-Dmaven.repo.local=${MAVEN_REPO}`, '-f', pom,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`,
      ...(spec.transitive === false ? ['-DexcludeTransitive=true'] : []),
    ]);
  });
}

export interface DebPackage {
  readonly name: string;
  readonly version: string;
}

/** Downloads `pkg` (pinned version, else the current candidate with a warning) into the shared .deb cache. */
async function downloadDeb(ctx: Ctx, pkg: DebPackage): Promise<string> {
  const dir = join(DEB_CACHE, pkg.name, pkg.version);
  mkdirSync(dir, { recursive: true });
  const cached = () => readdirSync(dir).find((f) => f.endsWith('.deb'));
  const have = cached();
  if (have) return join(dir, have);
  try {
    await run(ctx, 'apt-get', ['download', `${pkg.name}=${pkg.version}`], dir);
  } catch {
    // The package lists may be missing (fresh machine) or a Debian point release replaced the pinned version.
    if (process.getuid?.() === 0) await run(ctx, 'apt-get', ['update', '-q']);
    try {
      await run(ctx, 'apt-get', ['download', `${pkg.name}=${pkg.version}`], dir);
    } catch {
      ctx.log(`WARNING: ${pkg.name} ${pkg.version} is no longer available; using the current Debian version`);
      await run(ctx, 'apt-get', ['download', pkg.name], dir);
    }
  }
  const got = cached();
  if (!got) throw new Error(`apt-get download ${pkg.name} produced no .deb in ${dir}`);
  return join(dir, got);
}

/** Unpacks the given Debian packages into `libs/` (a root-like tree: libs/usr/bin/…). */
export async function fetchDebs(ctx: Ctx, pkgs: readonly DebPackage[]): Promise<void> {
  await fetchOnce(ctx, ctx.libs, JSON.stringify(pkgs), async (tmp) => {
    if (!hasCommand('apt-get') || !hasCommand('dpkg-deb')) {
      throw new ServerUnavailable(`${ctx.name} is fetched as a Debian package; this needs apt-get and dpkg-deb (Debian/Ubuntu)`);
    }
    for (const pkg of pkgs) await run(ctx, 'dpkg-deb', ['-x', await downloadDeb(ctx, pkg), tmp]);
  });
}

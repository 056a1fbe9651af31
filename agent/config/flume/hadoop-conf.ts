/**
 * Resolves a Flume `hdfs.path` to WebHDFS NameNode addresses the way a Hadoop client would: a path without a
 * scheme takes `fs.defaultFS` from core-site.xml; an `hdfs://` authority is either a nameservice (HA: every
 * NameNode of `dfs.ha.namenodes.<ns>`) or a NameNode host. The WebHDFS address comes from
 * `dfs.namenode.http-address` (https-address under `dfs.http.policy` HTTPS_ONLY), else port 9870 (9871).
 * The configuration folder is $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop, as the `hadoop` scripts use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface HadoopConf {
  dir: string;
  props: Map<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.trim().replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ENTITIES[e]!);

/** The <property> name/value pairs of a Hadoop *-site.xml file. */
export function parseSiteXml(xml: string): Map<string, string> {
  const props = new Map<string, string>();
  const body = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of body.matchAll(/<property\b[^>]*>([\s\S]*?)<\/property>/g)) {
    const name = /<name>([\s\S]*?)<\/name>/.exec(m[1]!)?.[1];
    const value = /<value>([\s\S]*?)<\/value>/.exec(m[1]!)?.[1] ?? (/<value\s*\/>/.test(m[1]!) ? '' : undefined);
    if (name !== undefined && value !== undefined) props.set(decode(name), decode(value));
  }
  return props;
}

/** Reads core-site.xml and hdfs-site.xml of the client configuration folder; undefined when there is none. */
export function loadHadoopConf(env: NodeJS.ProcessEnv): HadoopConf | undefined {
  const dir = env.HADOOP_CONF_DIR ? resolve(env.HADOOP_CONF_DIR) : env.HADOOP_HOME ? join(resolve(env.HADOOP_HOME), 'etc', 'hadoop') : undefined;
  if (!dir) return undefined;
  const props = new Map<string, string>();
  for (const f of ['core-site.xml', 'hdfs-site.xml']) {
    const p = join(dir, f);
    if (existsSync(p)) for (const [k, v] of parseSiteXml(readFileSync(p, 'utf8'))) props.set(k, v);
  }
  return { dir, props };
}

export interface ResolvedHdfsPath {
  /** The absolute path inside HDFS (escapes kept). */
  path: string;
  namenodes: string[];
  /** Where the addresses came from, for the converted file's comments. */
  via: string;
}

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

function hostOf(authority: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(authority);
  return m ? m[1]! : authority;
}

/** Throws an Error whose message says what to fix. */
export function resolveHdfsPath(hdfsPath: string, conf: HadoopConf | undefined): ResolvedHdfsPath {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(hdfsPath);
  if (m) {
    const [, scheme, authority, rest] = m as unknown as [string, string, string, string | undefined];
    const path = rest ?? '/';
    const s = scheme.toLowerCase();
    if (s === 'webhdfs' || s === 'swebhdfs') {
      return { path, namenodes: [`${s === 'swebhdfs' ? 'https' : 'http'}://${authority}`], via: `the ${s}:// address` };
    }
    if (s !== 'hdfs') throw new Error(`the file system "${scheme}://" is not supported: the hdfs sink writes to HDFS through WebHDFS; use an hdfs://, webhdfs:// or scheme-less path (or a file_roll sink for local files).`);
    if (!authority) return resolveHdfsPath(path, conf);
    return { path, namenodes: namenodesOf(authority, conf), via: conf ? `${authority} and ${conf.dir}/hdfs-site.xml` : `${authority} (no $HADOOP_CONF_DIR: WebHDFS on the default port)` };
  }
  if (!hdfsPath.startsWith('/')) throw new Error(`"${hdfsPath}" is neither absolute nor a URI: start it with "/" (resolved through fs.defaultFS) or hdfs://namenode:8020/.`);
  if (!conf) throw new Error(`"${hdfsPath}" has no hdfs:// NameNode and no Hadoop client configuration was found: set HADOOP_CONF_DIR to the folder holding core-site.xml (fs.defaultFS), or write hdfs://namenode:8020${hdfsPath}.`);
  const fs = conf.props.get('fs.defaultFS') ?? conf.props.get('fs.default.name');
  if (!fs) throw new Error(`"${hdfsPath}" has no hdfs:// NameNode and ${conf.dir}/core-site.xml sets no fs.defaultFS: set it (e.g. hdfs://namenode:8020), or write hdfs://namenode:8020${hdfsPath}.`);
  const d = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)/.exec(fs);
  if (!d || !['hdfs', 'webhdfs', 'swebhdfs'].includes(d[1]!.toLowerCase()) || !d[2]) {
    throw new Error(`fs.defaultFS in ${conf.dir}/core-site.xml is "${fs}", not an HDFS NameNode: Flume would not write to HDFS either. Point it at hdfs://namenode:8020, or write the hdfs:// address in hdfs.path.`);
  }
  const resolved = resolveHdfsPath(`${d[1]}://${d[2]}${hdfsPath}`, conf);
  return { ...resolved, via: `fs.defaultFS ${fs} in ${conf.dir}/core-site.xml` };
}

function namenodesOf(authority: string, conf: HadoopConf | undefined): string[] {
  const p = conf?.props ?? new Map<string, string>();
  if ((p.get('hadoop.security.authentication') ?? 'simple').toLowerCase() === 'kerberos') {
    throw new Error(`${conf!.dir}/core-site.xml uses Kerberos authentication, which the hdfs sink does not support (simple authentication with user.name only).`);
  }
  if (p.get('dfs.webhdfs.enabled')?.toLowerCase() === 'false') {
    throw new Error(`${conf!.dir}/hdfs-site.xml sets dfs.webhdfs.enabled false: the hdfs sink writes through WebHDFS, so enable it on the NameNode.`);
  }
  const https = p.get('dfs.http.policy')?.toUpperCase() === 'HTTPS_ONLY';
  const scheme = https ? 'https' : 'http';
  const key = https ? 'dfs.namenode.https-address' : 'dfs.namenode.http-address';
  const port = https ? 9871 : 9870;
  const web = (address: string | undefined, fallbackHost: string) => {
    if (!address) return `${scheme}://${fallbackHost}:${port}`;
    const host = hostOf(address);
    const portPart = address.slice(host.length);
    return `${scheme}://${WILDCARD.has(host) ? fallbackHost : host}${portPart || `:${port}`}`;
  };
  const ns = hostOf(authority);
  if (list(p.get('dfs.nameservices')).includes(ns)) {
    const nns = list(p.get(`dfs.ha.namenodes.${ns}`));
    if (!nns.length) return [web(p.get(`${key}.${ns}`), hostOf(p.get(`dfs.namenode.rpc-address.${ns}`) ?? ns))];
    return nns.map((nn) => {
      const rpc = p.get(`dfs.namenode.rpc-address.${ns}.${nn}`);
      const address = p.get(`${key}.${ns}.${nn}`);
      if (!address && !rpc) throw new Error(`nameservice ${ns} lists NameNode ${nn} but hdfs-site.xml sets neither ${key}.${ns}.${nn} nor dfs.namenode.rpc-address.${ns}.${nn}.`);
      return web(address, hostOf(rpc ?? ''));
    });
  }
  // The unsuffixed address describes the default cluster's NameNode; another cluster gets the default port.
  const fs = p.get('fs.defaultFS') ?? p.get('fs.default.name');
  const isDefault = !fs || new RegExp(`^[a-z]+://${escapeRe(authority)}(/|$)`, 'i').test(fs);
  return [web(isDefault ? p.get(key) : undefined, ns)];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Locating a Java runtime. Every JVM server here (Kafka 3.9, Hadoop 3.4, QuestDB 9, Elasticsearch 8.19, Flume)
 * runs on Java 17, the machine's default JDK; `SERVERS_JAVA_HOME` or `JAVA_HOME` select another one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const MIN_JAVA = 17;

export type JavaLookup = { readonly java: string; readonly home: string; readonly major: number } | { readonly reason: string };

let cached: JavaLookup | undefined;

function candidates(): string[] {
  const out: string[] = [];
  for (const home of [process.env.SERVERS_JAVA_HOME, process.env.JAVA_HOME]) if (home) out.push(join(home, 'bin', 'java'));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) out.push(join(dir, 'java'));
  return out.filter((p) => existsSync(p));
}

export function findJava(): JavaLookup {
  if (cached) return cached;
  let last: JavaLookup | undefined;
  for (const java of candidates()) {
    // -XshowSettings:properties prints java.home and java.specification.version (on stderr).
    const r = spawnSync(java, ['-XshowSettings:properties', '-version'], { encoding: 'utf8', timeout: 30_000 });
    last = parse(java, `${r.stderr ?? ''}${r.stdout ?? ''}`);
    if ('java' in last) return (cached = last);
  }
  return (cached = last ?? { reason: `no Java ${MIN_JAVA}+ found (install openjdk-${MIN_JAVA}-jre-headless or set JAVA_HOME)` });
}

function parse(java: string, settings: string): JavaLookup {
  const spec = /java\.specification\.version = (\S+)/.exec(settings)?.[1];
  const home = /java\.home = (.+)/.exec(settings)?.[1]?.trim() ?? '';
  const major = Number(spec?.startsWith('1.') ? spec.slice(2) : spec);
  if (!(major >= MIN_JAVA)) return { reason: `${java} is Java ${spec ?? '?'}, the servers need Java ${MIN_JAVA}+ (set JAVA_HOME)` };
  return { java, home, major };
}

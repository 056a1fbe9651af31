/** Every server the harness knows, in the order `status` lists them. */
import { elasticsearch } from './elasticsearch.ts';
import { elasticsearchTls } from './elasticsearch-tls.ts';
import { flume } from './flume.ts';
import { hdfs } from './hdfs.ts';
import { influxdb } from './influxdb.ts';
import { influxdbTls } from './influxdb-tls.ts';
import { kafka } from './kafka.ts';
import type { ServerDef } from './layout.ts';
import { prometheus } from './prometheus.ts';
import { questdb } from './questdb.ts';

export const SERVERS: readonly ServerDef[] = [kafka, questdb, influxdb, influxdbTls, prometheus, hdfs, elasticsearch, elasticsearchTls, flume];

export function serverDef(name: string): ServerDef {
  const def = SERVERS.find((d) => d.name === name);
  if (!def) throw new Error(`unknown server "${name}"; known: ${SERVERS.map((d) => d.name).join(', ')}`);
  return def;
}

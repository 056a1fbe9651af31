#!/usr/bin/env node
// Shows what seed 003's topology delivered: the files and records under the HDFS path (through WebHDFS) and the
// points in InfluxDB. `--json` prints the same as one JSON object.
//   node examples/flume-setup/show.js
const json = process.argv.includes('--json');
const webhdfs = `${process.env.HDFS_NAMENODE ?? 'http://127.0.0.1:9870'}/webhdfs/v1`;
const hdfsPath = process.env.HDFS_PATH ?? '/flume-setup/finance';
const influx = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';
const db = process.env.INFLUX_DB ?? 'fintrans';
const measurement = process.env.INFLUX_MEASUREMENT ?? 'finance_transaction_data';

async function hdfsTree(path, out = { files: 0, records: 0, inUse: 0, folders: new Set() }) {
  const res = await fetch(`${webhdfs}${path}?op=LISTSTATUS&user.name=root`);
  if (res.status === 404) return out;
  if (!res.ok) throw new Error(`WebHDFS LISTSTATUS ${path}: HTTP ${res.status}`);
  for (const s of (await res.json()).FileStatuses.FileStatus) {
    const child = `${path}/${s.pathSuffix}`;
    if (s.type === 'DIRECTORY') await hdfsTree(child, out);
    else if (s.pathSuffix.endsWith('.tmp')) out.inUse++;
    else {
      const text = await (await fetch(`${webhdfs}${child}?op=OPEN&user.name=root`)).text();
      out.files++;
      out.records += text.split('\n').filter((l) => l.length > 0).length;
      out.folders.add(path);
    }
  }
  return out;
}

async function influxPoints() {
  const q = `SELECT count(amount) FROM "${measurement}"`;
  const res = await fetch(`${influx}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  if (!res.ok) throw new Error(`InfluxDB query: HTTP ${res.status}`);
  const body = await res.json();
  return body.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
}

const tree = await hdfsTree(hdfsPath);
const points = await influxPoints();
const result = { hdfs: { path: hdfsPath, files: tree.files, records: tree.records, inUseFiles: tree.inUse, folders: [...tree.folders].sort() }, influxdb: { db, measurement, points } };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`HDFS ${hdfsPath}: ${tree.records} records in ${tree.files} closed files (${tree.inUse} still being written), in ${tree.folders.size} ten-minute folders`);
  for (const f of result.hdfs.folders) console.log(`  ${f}`);
  console.log(`InfluxDB ${db}.${measurement}: ${points} points`);
}

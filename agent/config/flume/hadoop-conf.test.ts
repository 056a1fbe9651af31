import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHadoopConf, parseSiteXml, resolveHdfsPath } from './hadoop-conf.ts';

const site = (props: Record<string, string>) =>
  `<?xml version="1.0"?>\n<!-- <property><name>commented.out</name><value>x</value></property> -->\n<configuration>\n${Object.entries(props)
    .map(([n, v]) => `  <property>\n    <name>${n}</name>\n    <value>${v}</value>\n    <final>true</final>\n  </property>`)
    .join('\n')}\n</configuration>\n`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

/** A HADOOP_CONF_DIR with the given core-site.xml and hdfs-site.xml properties. */
function confDir(core: Record<string, string>, hdfs: Record<string, string> = {}): string {
  const dir = temp('fta-hadoop-');
  writeFileSync(join(dir, 'core-site.xml'), site(core));
  writeFileSync(join(dir, 'hdfs-site.xml'), site(hdfs));
  return dir;
}
const conf = (core: Record<string, string>, hdfs: Record<string, string> = {}) => loadHadoopConf({ HADOOP_CONF_DIR: confDir(core, hdfs) });

describe('Hadoop client configuration', () => {
  it('parses *-site.xml properties, skipping comments and decoding entities', () => {
    const props = parseSiteXml(`${site({ 'a.b': ' x &amp; y ' })}<property><name>empty</name><value/></property>`);
    expect([...props]).toEqual([['a.b', 'x & y'], ['empty', '']]);
  });

  it('reads $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop, else nothing', () => {
    const home = temp('fta-hadoop-home-');
    mkdirSync(join(home, 'etc', 'hadoop'), { recursive: true });
    writeFileSync(join(home, 'etc', 'hadoop', 'core-site.xml'), site({ 'fs.defaultFS': 'hdfs://home-nn:8020' }));
    expect(loadHadoopConf({ HADOOP_HOME: home })!.props.get('fs.defaultFS')).toBe('hdfs://home-nn:8020');
    expect(loadHadoopConf({ HADOOP_CONF_DIR: confDir({ 'fs.defaultFS': 'hdfs://a:8020' }), HADOOP_HOME: home })!.props.get('fs.defaultFS')).toBe('hdfs://a:8020');
    expect(loadHadoopConf({})).toBeUndefined();
  });

  it('a path without scheme takes fs.defaultFS and the NameNode\'s dfs.namenode.http-address', () => {
    const c = conf({ 'fs.defaultFS': 'hdfs://127.0.0.1:8020' }, { 'dfs.namenode.http-address': '127.0.0.1:50070' });
    expect(resolveHdfsPath('/flume/%Y%m%d', c)).toMatchObject({ path: '/flume/%Y%m%d', namenodes: ['http://127.0.0.1:50070'] });
  });

  it('without dfs.namenode.http-address, or with a wildcard host, WebHDFS is the NameNode host on port 9870', () => {
    expect(resolveHdfsPath('/flume', conf({ 'fs.defaultFS': 'hdfs://nn1.example:8020' })).namenodes).toEqual(['http://nn1.example:9870']);
    expect(resolveHdfsPath('/flume', conf({ 'fs.defaultFS': 'hdfs://nn1.example:8020' }, { 'dfs.namenode.http-address': '0.0.0.0:9871' })).namenodes).toEqual(['http://nn1.example:9871']);
  });

  it('an hdfs:// address names the NameNode itself; another cluster than fs.defaultFS gets the default port', () => {
    const c = conf({ 'fs.defaultFS': 'hdfs://nn1:8020' }, { 'dfs.namenode.http-address': 'nn1:50070' });
    expect(resolveHdfsPath('hdfs://nn1:8020/data', c)).toMatchObject({ path: '/data', namenodes: ['http://nn1:50070'] });
    expect(resolveHdfsPath('hdfs://other:8020/data', c)).toMatchObject({ path: '/data', namenodes: ['http://other:9870'] });
    expect(resolveHdfsPath('hdfs://nn9:8020/x', undefined)).toMatchObject({ path: '/x', namenodes: ['http://nn9:9870'] });
  });

  it('an HA nameservice lists every NameNode, from its http-address or its rpc-address host', () => {
    const c = conf(
      { 'fs.defaultFS': 'hdfs://mycluster' },
      {
        'dfs.nameservices': 'mycluster',
        'dfs.ha.namenodes.mycluster': 'nn1, nn2',
        'dfs.namenode.http-address.mycluster.nn1': 'host1:9870',
        'dfs.namenode.rpc-address.mycluster.nn2': 'host2:8020',
      },
    );
    expect(resolveHdfsPath('/flume', c).namenodes).toEqual(['http://host1:9870', 'http://host2:9870']);
    expect(resolveHdfsPath('hdfs://mycluster/flume', c).namenodes).toEqual(['http://host1:9870', 'http://host2:9870']);
  });

  it('dfs.http.policy HTTPS_ONLY uses https and dfs.namenode.https-address (default port 9871)', () => {
    expect(resolveHdfsPath('/f', conf({ 'fs.defaultFS': 'hdfs://nn:8020' }, { 'dfs.http.policy': 'HTTPS_ONLY' })).namenodes).toEqual(['https://nn:9871']);
    expect(resolveHdfsPath('/f', conf({ 'fs.defaultFS': 'hdfs://nn:8020' }, { 'dfs.http.policy': 'HTTPS_ONLY', 'dfs.namenode.https-address': 'nn:50470' })).namenodes).toEqual(['https://nn:50470']);
  });

  it('webhdfs:// and swebhdfs:// addresses are used as they are', () => {
    expect(resolveHdfsPath('webhdfs://nn:9870/a', undefined)).toMatchObject({ path: '/a', namenodes: ['http://nn:9870'] });
    expect(resolveHdfsPath('swebhdfs://nn:9871/a', undefined).namenodes).toEqual(['https://nn:9871']);
  });

  it('says what to fix when the NameNode cannot be found or is not HDFS', () => {
    expect(() => resolveHdfsPath('/flume', undefined)).toThrow(/set HADOOP_CONF_DIR .* or write hdfs:\/\/namenode:8020\/flume/);
    expect(() => resolveHdfsPath('/flume', conf({}))).toThrow(/sets no fs.defaultFS/);
    expect(() => resolveHdfsPath('/flume', conf({ 'fs.defaultFS': 'file:///' }))).toThrow(/is "file:\/\/\/", not an HDFS NameNode/);
    expect(() => resolveHdfsPath('s3a://bucket/x', undefined)).toThrow(/"s3a:\/\/" is not supported/);
    expect(() => resolveHdfsPath('flume/x', undefined)).toThrow(/neither absolute nor a URI/);
    expect(() => resolveHdfsPath('/f', conf({ 'fs.defaultFS': 'hdfs://nn:8020', 'hadoop.security.authentication': 'kerberos' }))).toThrow(/Kerberos/);
    expect(() => resolveHdfsPath('/f', conf({ 'fs.defaultFS': 'hdfs://nn:8020' }, { 'dfs.webhdfs.enabled': 'false' }))).toThrow(/dfs.webhdfs.enabled/);
  });
});

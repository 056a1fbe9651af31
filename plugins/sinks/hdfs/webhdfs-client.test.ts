/**
 * The client's own logic (redirects, failover, error classification) against a tiny node:http stand-in for a
 * NameNode and a DataNode. The real protocol is exercised against real HDFS in test/hdfs.test.ts.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WebHdfsClient, WebHdfsError } from './webhdfs-client.ts';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function fake(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<string> {
  const url = await fake(() => undefined);
  await new Promise((r) => servers.pop()!.close(r));
  return url;
}

const remote = (res: http.ServerResponse, status: number, exception: string, message = 'boom') => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ RemoteException: { exception, javaClassName: `x.${exception}`, message: `${message}\n\tat stack` } }));
};
const client = (namenodes: string[]) => new WebHdfsClient({ namenodes, user: 'etl', timeoutMs: 2000 });

describe('WebHDFS client', () => {
  it('follows the 307 to the DataNode, sends the data only there, and tolerates its unsolicited 100 Continue', async () => {
    const seen: { where: string; method: string; url: string; body: string }[] = [];
    const dn = await fake((req, body, res) => {
      seen.push({ where: 'dn', method: req.method!, url: req.url!, body: body.toString() });
      res.writeContinue(); // what a real DataNode does, asked or not
      res.writeHead(req.method === 'PUT' ? 201 : 200).end();
    });
    const nn = await fake((req, body, res) => {
      seen.push({ where: 'nn', method: req.method!, url: req.url!, body: body.toString() });
      res.writeHead(307, { location: `${dn}/webhdfs/v1${new URL(req.url!, nn).pathname.slice('/webhdfs/v1'.length)}?op=X` }).end();
    });
    const c = client([`${nn}/`]);
    await c.create('/flume/2024 03/a.tmp', Buffer.from('line\n'));
    await c.append('/flume/2024 03/a.tmp', Buffer.from('more\n'));
    expect(seen.map((s) => `${s.where} ${s.method} ${s.body}`)).toEqual(['nn PUT ', 'dn PUT line\n', 'nn POST ', 'dn POST more\n']);
    expect(seen[0]!.url).toBe('/webhdfs/v1/flume/2024%2003/a.tmp?op=CREATE&user.name=etl&overwrite=false');
    expect(seen[2]!.url).toBe('/webhdfs/v1/flume/2024%2003/a.tmp?op=APPEND&user.name=etl');
  });

  it('reads through the redirect, and lists, stats, renames, truncates and deletes on the NameNode', async () => {
    const dn = await fake((req, _b, res) => res.end(`data@${new URL(req.url!, 'http://x').searchParams.get('offset')}`));
    const nn = await fake((req, _b, res) => {
      const u = new URL(req.url!, 'http://x');
      const op = u.searchParams.get('op');
      if (op === 'OPEN') return res.writeHead(307, { location: `${dn}${u.pathname}?${u.searchParams}` }).end();
      if (u.pathname.endsWith('/missing')) return remote(res, 404, 'FileNotFoundException');
      res.setHeader('content-type', 'application/json');
      if (op === 'LISTSTATUS') return res.end(JSON.stringify({ FileStatuses: { FileStatus: [{ pathSuffix: 'a', type: 'FILE', length: 3, modificationTime: 1 }] } }));
      if (op === 'GETFILESTATUS') return res.end(JSON.stringify({ FileStatus: { pathSuffix: '', type: 'FILE', length: 7, modificationTime: 1 } }));
      res.end(JSON.stringify({ boolean: op !== 'DELETE' }));
    });
    const c = client([nn]);
    expect((await c.read('/f', 5, 10)).toString()).toBe('data@5');
    expect(await c.list('/d')).toEqual([{ pathSuffix: 'a', type: 'FILE', length: 3, modificationTime: 1 }]);
    expect(await c.list('/missing')).toBeUndefined();
    expect((await c.status('/f'))?.length).toBe(7);
    expect(await c.status('/missing')).toBeUndefined();
    expect(await c.rename('/a', '/b')).toBe(true);
    expect(await c.truncate('/a', 3)).toBe(true);
    expect(await c.delete('/a')).toBe(false);
  });

  it('fails over to the next NameNode on a refused connection, a 5xx and a standby answer, and stays on the one that works', async () => {
    let standbyCalls = 0;
    let activeCalls = 0;
    const standby = await fake((_r, _b, res) => (standbyCalls++, remote(res, 403, 'StandbyException', 'Operation category READ is not supported in state standby')));
    const broken = await fake((_r, _b, res) => res.writeHead(503).end('overloaded'));
    const active = await fake((_r, _b, res) => (activeCalls++, res.writeHead(200, { 'content-type': 'application/json' }).end('{"boolean":true}')));
    const c = client([await closedPort(), broken, standby, active]);
    expect(await c.rename('/a', '/b')).toBe(true);
    expect(await c.rename('/a', '/b')).toBe(true);
    expect([standbyCalls, activeCalls]).toEqual([1, 2]);
  });

  it('classifies errors: a RemoteException keeps its name; only network, 5xx, 429 and "not now" exceptions are transient', async () => {
    const denied = await fake((_r, _b, res) => remote(res, 403, 'AccessControlException', 'Permission denied: user=etl'));
    const error = await client([denied]).rename('/a', '/b').catch((e: unknown) => e as WebHdfsError);
    expect(error).toBeInstanceOf(WebHdfsError);
    expect(error).toMatchObject({ status: 403, exception: 'AccessControlException', transient: false });
    expect((error as Error).message).toBe('RENAME /a: HTTP 403 AccessControlException: Permission denied: user=etl');

    const down = await client([await closedPort(), await fake((_r, _b, res) => res.writeHead(500).end())]).rename('/a', '/b').catch((e: unknown) => e as WebHdfsError);
    expect(down).toMatchObject({ status: 500, transient: true });
    expect(new WebHdfsError('x', 403, 'RecoveryInProgressException').transient).toBe(true);
    expect(new WebHdfsError('x', 429, undefined).transient).toBe(true);
  });

  it('says whether a failed write may have reached the file', async () => {
    const refusedDn = await closedPort();
    const resetDn = await fake((req, _b, res) => res.socket?.destroy());
    const existsDn = await fake((_r, _b, res) => remote(res, 403, 'FileAlreadyExistsException'));
    const leaseDn = await fake((_r, _b, res) => remote(res, 403, 'AlreadyBeingCreatedException'));
    const failure = async (dn: string, op: 'create' | 'append') => {
      const nn = await fake((req, _b, res) => res.writeHead(307, { location: `${dn}${req.url}` }).end());
      return (client([nn])[op]('/f', Buffer.from('x\n')).catch((e: unknown) => e)) as Promise<WebHdfsError>;
    };
    expect(await failure(refusedDn, 'append')).toMatchObject({ status: 0, written: 'no' });
    expect(await failure(resetDn, 'append')).toMatchObject({ status: 0, written: 'maybe' });
    expect(await failure(existsDn, 'create')).toMatchObject({ status: 403, exception: 'FileAlreadyExistsException', written: 'no' });
    expect(await failure(leaseDn, 'append')).toMatchObject({ status: 403, exception: 'AlreadyBeingCreatedException', written: 'maybe' });
    // Nothing is sent when the NameNode itself refuses.
    const nnDown = await client([refusedDn]).append('/f', Buffer.from('x')).catch((e: unknown) => e);
    expect(nnDown).toMatchObject({ status: 0, written: 'no' });
  });

  it('times out a silent server', async () => {
    const silent = await fake(() => undefined);
    const c = new WebHdfsClient({ namenodes: [silent], user: 'u', timeoutMs: 200 });
    await expect(c.status('/x')).rejects.toMatchObject({ status: 0, message: expect.stringContaining('no answer for 200 ms') });
  });

  it('gives the tls options to the https NameNode and to the https DataNode it redirects to, and none to http', async () => {
    // No certificate here: https.request is stood in for by plain http to the fakes, recording the options it got.
    const seen: { url: string; options: https.RequestOptions }[] = [];
    const spy = vi.spyOn(https, 'request').mockImplementation(((url: string, options: https.RequestOptions, cb: (res: http.IncomingMessage) => void) => {
      seen.push({ url, options });
      return http.request(url.replace(/^https:/, 'http:'), { method: options.method, headers: options.headers, agent: false }, cb);
    }) as typeof https.request);
    try {
      const dn = await fake((_r, _b, res) => res.writeHead(201).end());
      const nn = await fake((req, _b, res) => res.writeHead(307, { location: `${dn.replace('http:', 'https:')}${req.url}` }).end());
      const tls = { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true };
      await new WebHdfsClient({ namenodes: [nn.replace('http:', 'https:')], user: 'u', timeoutMs: 2000, tls }).create('/f', Buffer.from('x\n'));
      expect(seen.map((s) => new URL(s.url).port)).toEqual([new URL(nn).port, new URL(dn).port]);
      for (const s of seen) expect(s.options).toMatchObject(tls);
      seen.length = 0;
      await new WebHdfsClient({ namenodes: [nn], user: 'u', timeoutMs: 2000, tls }).status('/f').catch(() => undefined);
      expect(seen).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

/**
 * A small WebHDFS REST client on node:http, with NameNode failover. Not the `webhdfs` npm package: it depends on
 * the deprecated `request` library, which has known, unfixed vulnerabilities (CVE-2023-28155) and gets no
 * updates. Not `fetch` either: a DataNode answers writes with an unsolicited `100 Continue`, which undici
 * rejects as a bad response, while node:http skips informational responses as HTTP allows.
 *
 * CREATE, APPEND and OPEN are two requests: the NameNode answers 307 with the DataNode's URL, and the data goes
 * there in one request. Errors say whether data may have reached the file (`written: 'maybe'`), which the sink
 * needs to keep a failed append from being followed by a duplicate.
 *
 * Over HTTPS (swebhdfs) the `tls` options apply to the NameNode and to the DataNode it redirects to: a cluster
 * serves both with certificates from the same CA.
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsOptions } from '../../shared/tls.ts';

export interface FileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
}

/** NameNode answers that mean "ask another one" or "try again later". */
const TRANSIENT_EXCEPTIONS = new Set([
  'StandbyException', 'RetriableException', 'SafeModeException', 'RecoveryInProgressException', 'AlreadyBeingCreatedException',
  'LeaseExpiredException', 'NotReplicatedYetException', 'ObserverRetryOnActiveException',
]);

export class WebHdfsError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 for a network error or timeout. */
    readonly status: number,
    /** The Java exception's simple name from a RemoteException, if any. */
    readonly exception: string | undefined,
    /** 'maybe' when the request carried data that may have reached the file before it failed. */
    readonly written: 'no' | 'maybe' = 'no',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'WebHdfsError';
  }

  /** Network errors, 5xx, 429 and the NameNode's "not now" exceptions; the rest (404, 403 permissions, 400) are not. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || (this.exception !== undefined && TRANSIENT_EXCEPTIONS.has(this.exception));
  }
}

type Reply = { status: number; location: string | undefined; body: Buffer };

export interface WebHdfsOptions {
  /** NameNode HTTP addresses, e.g. http://nn1:9870 or https://nn1:9871 (a trailing /webhdfs/v1 is accepted). */
  namenodes: readonly string[];
  user: string;
  /** Longest a request may stay silent before it fails, in milliseconds. */
  timeoutMs: number;
  /** CA, client certificate and verification for https:// requests; plain http:// ones ignore it. */
  tls?: TlsOptions;
}

export class WebHdfsClient {
  private readonly bases: string[];
  private active = 0;

  constructor(private readonly options: WebHdfsOptions) {
    if (options.namenodes.length === 0) throw new Error('at least one NameNode URL is needed');
    this.bases = options.namenodes.map((n) => `${n.replace(/\/+$/, '').replace(/\/webhdfs\/v1$/, '')}/webhdfs/v1`);
  }

  /** Creates a file holding `data`; fails if it exists (overwrite=false). */
  async create(path: string, data: Buffer): Promise<void> {
    await this.write('PUT', 'CREATE', path, data, 201, { overwrite: 'false' });
  }

  async append(path: string, data: Buffer): Promise<void> {
    await this.write('POST', 'APPEND', path, data, 200);
  }

  async rename(from: string, to: string): Promise<boolean> {
    return this.json<{ boolean: boolean }>('PUT', 'RENAME', from, { destination: to }).then((r) => r.boolean);
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    return this.json<{ boolean: boolean }>('DELETE', 'DELETE', path, { recursive: String(recursive) }).then((r) => r.boolean);
  }

  /** true when done at once; false when HDFS finishes it with a block recovery (the file is then briefly open). */
  async truncate(path: string, length: number): Promise<boolean> {
    return this.json<{ boolean: boolean }>('POST', 'TRUNCATE', path, { newlength: String(length) }).then((r) => r.boolean);
  }

  async status(path: string): Promise<FileStatus | undefined> {
    return this.json<{ FileStatus: FileStatus }>('GET', 'GETFILESTATUS', path).then((r) => r.FileStatus, notFound);
  }

  /** The entries of a directory; undefined when it does not exist. */
  async list(path: string): Promise<FileStatus[] | undefined> {
    return this.json<{ FileStatuses: { FileStatus: FileStatus[] } }>('GET', 'LISTSTATUS', path).then((r) => r.FileStatuses.FileStatus, notFound);
  }

  /** Reads a file, or `length` bytes from `offset`. */
  async read(path: string, offset = 0, length?: number): Promise<Buffer> {
    const params: Record<string, string> = { offset: String(offset) };
    if (length !== undefined) params.length = String(length);
    const nn = await this.namenode('GET', 'OPEN', path, params);
    if (nn.status === 200) return nn.body;
    const dn = await this.datanode('GET', nn, path, undefined, 200);
    return dn.body;
  }

  private async write(method: string, op: string, path: string, data: Buffer, expect: number, params: Record<string, string> = {}): Promise<void> {
    await this.datanode(method, await this.namenode(method, op, path, params), path, data, expect);
  }

  private async json<T>(method: string, op: string, path: string, params: Record<string, string> = {}): Promise<T> {
    const r = await this.namenode(method, op, path, params);
    if (r.status !== 200) throw replyError(`${op} ${path}`, r);
    return JSON.parse(r.body.toString('utf8')) as T;
  }

  /** One request to the active NameNode; on a network error, 5xx, 429 or a standby answer, the next one. */
  private async namenode(method: string, op: string, path: string, params: Record<string, string>): Promise<Reply> {
    const query = new URLSearchParams({ op, 'user.name': this.options.user, ...params });
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    let last: WebHdfsError | undefined;
    for (let i = 0; i < this.bases.length; i++) {
      const index = (this.active + i) % this.bases.length;
      const url = `${this.bases[index]}${encoded}?${query}`;
      let reply: Reply;
      try {
        reply = await send(method, url, undefined, this.options);
      } catch (error) {
        last = new WebHdfsError(`${op} ${path}: NameNode ${this.bases[index]} unreachable: ${networkDetail(error)}`, 0, undefined, 'no', { cause: error });
        continue;
      }
      const err = reply.status >= 300 && reply.status !== 307 ? replyError(`${op} ${path}`, reply) : undefined;
      if (err && (err.status >= 500 || err.status === 429 || err.exception === 'StandbyException')) {
        last = err;
        continue;
      }
      this.active = index;
      if (err) throw err;
      return reply;
    }
    throw last!;
  }

  /** Follows the NameNode's 307 to the DataNode, sending `data` there. */
  private async datanode(method: string, nn: Reply, path: string, data: Buffer | undefined, expect: number): Promise<Reply> {
    if (nn.status !== 307 || !nn.location) throw replyError(`${method} ${path}: expected a redirect to a DataNode`, nn);
    let reply: Reply;
    try {
      reply = await send(method, nn.location, data, this.options);
    } catch (error) {
      const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      const message = `${method} ${path}: DataNode ${new URL(nn.location).host} failed: ${networkDetail(error)}`;
      throw new WebHdfsError(message, 0, undefined, data && !refused ? 'maybe' : 'no', { cause: error });
    }
    if (reply.status !== expect) {
      const err = replyError(`${method} ${path} on DataNode ${new URL(nn.location).host}`, reply);
      throw new WebHdfsError(err.message, err.status, err.exception, data && err.exception !== 'FileAlreadyExistsException' ? 'maybe' : 'no');
    }
    return reply;
  }
}

/** The error's message, with what to do when the peer's certificate was not trusted (codes of node:tls). */
function networkDetail(error: unknown): string {
  const { message, code } = error as NodeJS.ErrnoException;
  const untrusted = /CERT|SIGNATURE|ERR_TLS/.test(code ?? '');
  return untrusted ? `${message} (set tls.caFile to the CA that signed the cluster's HTTPS certificates)` : message;
}

function notFound(error: unknown): undefined {
  if (error instanceof WebHdfsError && error.status === 404) return undefined;
  throw error;
}

function replyError(what: string, r: Reply): WebHdfsError {
  let exception: string | undefined;
  let detail = r.body.toString('utf8').slice(0, 300);
  try {
    const remote = (JSON.parse(r.body.toString('utf8')) as { RemoteException?: { exception?: string; message?: string } }).RemoteException;
    exception = remote?.exception;
    if (remote?.message) detail = `${exception}: ${remote.message.split('\n')[0]}`;
  } catch {
    // not JSON: keep the text
  }
  return new WebHdfsError(`${what}: HTTP ${r.status} ${detail}`.trim(), r.status, exception);
}

function send(method: string, url: string, data: Buffer | undefined, { timeoutMs, tls }: WebHdfsOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const headers: http.OutgoingHttpHeaders = { 'content-length': data ? data.length : 0 };
    if (data) headers['content-type'] = 'application/octet-stream';
    const options: https.RequestOptions = { method, headers, agent: false, ...(secure ? tls : undefined) };
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks) }));
      res.on('close', () => res.complete || reject(new Error('connection closed before the response ended')));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer for ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

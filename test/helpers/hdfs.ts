/**
 * Reading back what the hdfs sink wrote, through WebHDFS, with retries while HDFS restarts (the HDFS tests and the
 * fault suite restart it on purpose; the sink under test never gets this help).
 */
import { WebHdfsClient, WebHdfsError } from '../../plugins/sinks/hdfs/webhdfs-client.ts';
import { endpoints } from '../servers.ts';

export const NAMENODE = endpoints.hdfs.webhdfs.replace(/\/webhdfs\/v1$/, '');
export const hdfs = new WebHdfsClient({ namenodes: [NAMENODE], user: endpoints.hdfs.user, timeoutMs: 30_000 });

export interface Tree {
  /** Final files and their bytes. */
  files: Map<string, Buffer>;
  /** Paths of files still under their in-use name. */
  inUse: string[];
}

export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 500))) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof WebHdfsError && error.transient) || Date.now() > deadline) throw error;
    }
  }
}

/** Every file under `root`; final ones read, in-use ones (`inUseSuffix`) only listed. */
export function readTree(root: string, inUseSuffix = '.tmp'): Promise<Tree> {
  return retrying(async () => {
    const tree: Tree = { files: new Map(), inUse: [] };
    const walk = async (d: string): Promise<void> => {
      for (const s of (await hdfs.list(d)) ?? []) {
        const p = `${d}/${s.pathSuffix}`;
        if (s.type === 'DIRECTORY') await walk(p);
        else if (s.pathSuffix.endsWith(inUseSuffix)) tree.inUse.push(p);
        else tree.files.set(p, await hdfs.read(p));
      }
    };
    await walk(root);
    return tree;
  });
}

export const linesOf = (tree: Tree) => [...tree.files.values()].flatMap((b) => b.toString('utf8').split('\n').filter((l) => l.length > 0));

/**
 * Stopping and restarting shared servers for a fault, with a check that the stop really happened: the harness
 * leaves alone a server it did not start (another checkout's, or one run by hand), and a case that believed it
 * had an outage when it had none would prove nothing. HDFS's two daemons can be restarted one at a time through
 * the harness's PID records (never by process name).
 */
import { context, up } from '../../../servers/harness.ts';
import { tcpOpen } from '../../../servers/probe.ts';
import { launch, readPidRecords, stopProcess } from '../../../servers/proc.ts';
import { stopServer } from '../../servers.ts';

/** Stops `name` (keeping its data) and checks that nothing listens on `port` any more. */
export async function stopShared(name: string, port: number): Promise<void> {
  await stopServer(name);
  if (await tcpOpen(port)) {
    throw new Error(`${name} still listens on ${port} after stopServer: this checkout's harness did not start it (it is "external"), so this fault case cannot stop it. Stop it and let the test start its own.`);
  }
}

/**
 * Starts `name` again on its data (test/servers.ts startServer, plus a check). While it was down, another
 * harness with its own state directory (bench/run.js uses bench/data/servers) may have started a server of its own
 * on the same ports: this one would then only be probed and reused, without the case's data, and stopped later by
 * its owner. That is reported instead of being mistaken for a recovery.
 */
export async function startShared(name: string): Promise<void> {
  const r = await up(name, { keepData: true });
  if (r.outcome === 'external') {
    throw new Error(`${name} was started on its ports by someone else while this case had it stopped (another checkout's or bench/run.js's harness); the case's data is not on that server. Run the fault suite while nothing else uses the servers.`);
  }
}

export type HdfsDaemon = 'namenode' | 'datanode';

/** Stops one HDFS daemon by its PID record; false when HDFS was not started by this checkout's harness. */
export async function stopHdfsDaemon(id: HdfsDaemon): Promise<boolean> {
  const { ctx } = context('hdfs');
  const rec = readPidRecords(ctx).find((r) => r.id === id);
  if (!rec) return false;
  await stopProcess(rec, 30_000);
  return true;
}

/** Starts the daemon again on its data, and resolves once HDFS as a whole answers ready. */
export async function startHdfsDaemon(id: HdfsDaemon, timeoutMs = 120_000): Promise<void> {
  const { def, ctx } = context('hdfs');
  await launch(ctx, def.processes(ctx).find((p) => p.id === id)!, false);
  const deadline = Date.now() + timeoutMs;
  for (let last: unknown; (last = await def.ready(ctx)) !== true; await new Promise((r) => setTimeout(r, 500))) {
    if (Date.now() > deadline) throw new Error(`HDFS not ready ${timeoutMs} ms after restarting its ${id}: ${String(last)}`);
  }
}

/**
 * Watches the configuration file and reloads it: on a change of its content (debounced, so an edit written in
 * several steps is read once, complete), on SIGHUP (through the CLI) or on request. The watch is on the file's
 * directory, so an editor's write-then-rename and a Kubernetes ConfigMap's symlink swap are seen too; events that
 * leave the content as it was do nothing. An invalid file never stops the agent: every problem is logged at its
 * file:line:column, `fintrans_agent_config_reload_failed` turns 1 and the running pipeline stays as it is. Reloads
 * run one at a time.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { ConfigError, formatProblem } from '../config/problems.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';

export type ReloadOutcome =
  | { status: 'applied'; changes: Record<string, unknown> }
  | { status: 'unchanged' }
  | { status: 'failed'; problems: string[] };

export interface ReloaderOptions {
  file: string;
  agent: string;
  /** The file's content the running configuration was read from. */
  text: string | undefined;
  log: Logger;
  metrics: MetricsRegistry;
  /** Applies the file as it is now: reads and validates it (ConfigError lists every problem), then swaps. */
  apply(): Promise<Record<string, unknown>>;
}

export class ConfigReloader {
  private watcher: FSWatcher | undefined;
  private debounceMs = 500;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private lastText: string | undefined;
  private closed = false;
  private readonly failed;
  private readonly attempts;
  private readonly failures;
  private readonly lastSuccess;

  constructor(private readonly o: ReloaderOptions) {
    this.lastText = o.text;
    const m = o.metrics;
    this.failed = m.agentGauge('config_reload_failed', '1 when the last configuration reload failed (the agent runs its previous configuration, or part of the new one: see the log), 0 after a successful one.', o.agent);
    this.attempts = m.agentCounter('config_reloads_total', 'Configuration reloads attempted (file changes, SIGHUP, requests), successful or not.', o.agent);
    this.failures = m.agentCounter('config_reload_failures_total', 'Configuration reloads that failed: invalid file, or a component that could not be built or started.', o.agent);
    this.lastSuccess = m.agentGauge('config_last_reload_success_timestamp_seconds', 'Unix time of the start or last successful reload of the configuration.', o.agent);
    this.lastSuccess.set(Date.now() / 1000);
  }

  /** Starts, stops or re-tunes the file watch (the `reload` settings may change in a reload). */
  async configure(watchFile: boolean, debounceMs: number): Promise<void> {
    this.debounceMs = debounceMs;
    if (this.closed || watchFile === (this.watcher !== undefined)) return;
    if (!watchFile) return this.unwatch();
    const file = resolve(this.o.file);
    const dir = dirname(file);
    const name = basename(file);
    // Kubernetes mounts a ConfigMap as `..data/` behind symlinks and updates it by swapping `..data`.
    const relevant = (p: string) => resolve(p) === dir || basename(p) === name || basename(p).startsWith('..');
    const watcher = watch(dir, { depth: 0, ignoreInitial: true, persistent: false, followSymlinks: false, ignorePermissionErrors: true, ignored: (p) => !relevant(p) });
    watcher.on('all', () => this.schedule());
    watcher.on('error', (error) => this.o.log.warn({ file, error: errorMessage(error) }, 'Watching the configuration file failed; SIGHUP still reloads it.'));
    // A change between the agent reading the file and the watch starting is caught by comparing once ready.
    watcher.on('ready', () => this.schedule());
    this.watcher = watcher;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload('file changed', true), this.debounceMs);
    this.timer.unref();
  }

  /** Reloads after any reload in progress; `ifChanged`: only when the file's content differs from the last read. */
  reload(reason = 'requested', ifChanged = false): Promise<ReloadOutcome> {
    const run = this.chain.then(() => this.attempt(reason, ifChanged));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async attempt(reason: string, ifChanged: boolean): Promise<ReloadOutcome> {
    const { log, file } = this.o;
    if (this.closed) return { status: 'unchanged' };
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // Mid-replace, or deleted: the load below reports it if it stays so.
    }
    if (ifChanged && (text === undefined || text === this.lastText)) return { status: 'unchanged' };
    this.lastText = text;
    this.attempts.inc();
    const started = performance.now();
    try {
      const changes = await this.o.apply();
      this.failed.set(0);
      this.lastSuccess.set(Date.now() / 1000);
      const ms = Math.round(performance.now() - started);
      if (Object.keys(changes).length) log.info({ file, reason, ms, ...changes }, 'Configuration reloaded.');
      else log.info({ file, reason, ms }, 'Configuration reloaded: no component changed.');
      return { status: 'applied', changes };
    } catch (error) {
      if (this.closed) return { status: 'unchanged' };
      this.failures.inc();
      this.failed.set(1);
      const invalid = error instanceof ConfigError;
      const problems = invalid ? error.problems.map(formatProblem) : [errorMessage(error)];
      for (const problem of problems) log.error({ file, reason, problem }, `Configuration reload: ${problem}`);
      if (invalid) log.error({ file, reason, problems: problems.length }, `The configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}, listed above); the agent keeps running its current pipeline. Fix the file and save it again.`);
      return { status: 'failed', problems };
    }
  }

  private async unwatch(): Promise<void> {
    clearTimeout(this.timer);
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
  }

  /** Stops watching and waits for a reload in progress; later requests do nothing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.unwatch();
    await this.chain;
  }
}

/**
 * Programmatic entry: load, validate, build and start one agent of a configuration file, with its metrics
 * endpoint and its configuration reloads (file watch, `reload()`). The CLI and the integration tests both go
 * through here.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { AgentError, ErrorCodes, errorMessage } from './errors.ts';
import { loadConfig, resolveConfPath } from './config/load.ts';
import { ConfigError } from './config/problems.ts';
import { validateConfig, type ResolvedConfig } from './config/validate.ts';
import { createLogger } from './log.ts';
import { MetricsRegistry } from './metrics/registry.ts';
import { startMetricsServer } from './metrics/server.ts';
import { PluginRegistry } from './registry.ts';
import { Agent } from './runtime/agent.ts';
import { describePlan } from './runtime/reload-plan.ts';
import { ConfigReloader, type ReloadOutcome } from './runtime/reload-watch.ts';

export type { ReloadOutcome };

export interface StartOptions {
  conf: string;
  name?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Overrides metrics.port (0 = any free port); `false` disables the endpoint. */
  metricsPort?: number | false;
  /** Overrides reload.watch (`false`: no file watch; `reload()` still works). */
  watch?: boolean;
  registry?: PluginRegistry;
  cwd?: string;
}

export interface RunningAgent {
  agent: Agent;
  /** The configuration running now: the one started with, or the last one a reload applied. */
  readonly config: ResolvedConfig;
  metrics: MetricsRegistry;
  metricsPort: number | undefined;
  log: Logger;
  /** Reads the file again and applies it (what SIGHUP does). Never throws: a failure is in the outcome and the log. */
  reload(reason?: string): Promise<ReloadOutcome>;
  stop(): Promise<void>;
}

/** `name` picks the agent of a Flume file to translate (a YAML file holds them all). */
export async function loadAndValidate(conf: string, options: { env?: NodeJS.ProcessEnv; registry?: PluginRegistry; cwd?: string; name?: string } = {}): Promise<ResolvedConfig> {
  const file = resolveConfPath(conf, options.cwd);
  const loaded = loadConfig(file, options.env, options.name);
  return validateConfig(loaded, options.registry);
}

export function pickAgent(config: ResolvedConfig, name: string | undefined): string {
  const names = Object.keys(config.agents);
  if (name !== undefined) {
    if (!config.agents[name]) throw new AgentError(ErrorCodes.USAGE, `No agent named "${name}" in ${config.file}. Agents defined: ${names.join(', ')}.`);
    return name;
  }
  if (names.length === 1) return names[0]!;
  throw new AgentError(ErrorCodes.USAGE, `${config.file} defines ${names.length} agents (${names.join(', ')}): choose one with --name.`);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function startAgent(options: StartOptions): Promise<RunningAgent> {
  const registry = options.registry ?? new PluginRegistry();
  const file = resolveConfPath(options.conf, options.cwd);
  const text = readText(file);
  const started = await loadAndValidate(file, { ...options, registry });
  const name = pickAgent(started, options.name);
  const log = options.log ?? createLogger({ level: started.logLevel });
  const metrics = new MetricsRegistry();
  const agent = await Agent.build(started.agents[name]!, { metrics, log, configDir: started.dir });
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (options.metricsPort !== false && started.metrics.enabled) {
    const port = options.metricsPort ?? started.metrics.port;
    try {
      server = await startMetricsServer(metrics, {
        host: started.metrics.host,
        port,
        token: started.metrics.token,
        healthy: () => agent.healthy(),
        extraStatus: () => Object.fromEntries([...agent.channels].map(([n, ch]) => [`CHANNEL.${n}`, Object.fromEntries(Object.entries(ch.status()).map(([k, v]) => [k, String(v)]))])),
      });
    } catch (error) {
      // The bare "listen EADDRINUSE" names neither the endpoint nor the setting that moves it.
      throw new Error(`The metrics endpoint cannot listen on ${started.metrics.host}:${port} (${errorMessage(error)}): stop what uses that port, or set metrics.port to another port (0 = any free one) or metrics.enabled: false.`, { cause: error });
    }
  }
  await agent.start();

  let top = started;
  const restartRequired = metrics.agentGauge('config_restart_required', '1 while the file has settings that apply only at the next start (metrics endpoint), 0 otherwise.', name);
  const apply = async (): Promise<Record<string, unknown>> => {
    const next = await loadAndValidate(file, { env: options.env, registry, name });
    const resolved = next.agents[name];
    if (!resolved) throw new ConfigError([{ path: ['agents'], file, message: `agent "${name}" is no longer defined: this process runs it, so it cannot be removed by a reload. Restore it, or stop the agent.` }]);
    const later = isDeepStrictEqual(next.metrics, started.metrics) ? [] : ['metrics'];
    restartRequired.set(later.length ? 1 : 0);
    if (later.length) log.warn({ settings: later }, 'The metrics endpoint settings changed; they apply at the next start: restart the agent for them. The rest of the change is applied now.');
    const before = agent.config;
    try {
      const plan = await agent.reload(resolved);
      return describePlan(plan);
    } finally {
      if (agent.config !== before) {
        top = { ...next, agents: { ...next.agents, [name]: agent.config } };
        if (!options.log) log.level = next.logLevel;
        await reloader.configure(options.watch ?? next.reload.watch, next.reload.debounceMs);
      }
    }
  };
  const reloader = new ConfigReloader({ file, agent: name, text, log, metrics, apply });
  await reloader.configure(options.watch ?? started.reload.watch, started.reload.debounceMs);

  let stopping: Promise<void> | undefined;
  return {
    agent,
    get config() {
      return top;
    },
    metrics,
    metricsPort: server?.port,
    log,
    reload: (reason = 'requested') => reloader.reload(reason),
    stop: () =>
      (stopping ??= (async () => {
        const closing = reloader.close();
        await agent.stop();
        await closing;
        await server?.close();
      })()),
  };
}

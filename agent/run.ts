/**
 * Programmatic entry: load, validate, build and start one agent of a configuration file, with its metrics
 * endpoint. The CLI and the integration tests both go through here.
 */
import type { Logger } from 'pino';
import { AgentError, ErrorCodes } from './errors.ts';
import { loadConfig, resolveConfPath } from './config/load.ts';
import { validateConfig, type ResolvedConfig } from './config/validate.ts';
import { createLogger } from './log.ts';
import { MetricsRegistry } from './metrics/registry.ts';
import { startMetricsServer } from './metrics/server.ts';
import { PluginRegistry } from './registry.ts';
import { Agent } from './runtime/agent.ts';

export interface StartOptions {
  conf: string;
  name?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Overrides metrics.port (0 = any free port); `false` disables the endpoint. */
  metricsPort?: number | false;
  registry?: PluginRegistry;
  cwd?: string;
}

export interface RunningAgent {
  agent: Agent;
  config: ResolvedConfig;
  metrics: MetricsRegistry;
  metricsPort: number | undefined;
  log: Logger;
  stop(): Promise<void>;
}

/** `name` limits a Flume properties file's translation to that agent, so a problem in another agent does not block it. */
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

export async function startAgent(options: StartOptions): Promise<RunningAgent> {
  const config = await loadAndValidate(options.conf, options);
  const name = pickAgent(config, options.name);
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = new MetricsRegistry();
  const agent = await Agent.build(config.agents[name]!, { metrics, log, configDir: config.dir });
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (options.metricsPort !== false && config.metrics.enabled) {
    const port = options.metricsPort ?? config.metrics.port;
    server = await startMetricsServer(metrics, {
      host: config.metrics.host,
      port,
      token: config.metrics.token,
      healthy: () => agent.healthy(),
      extraStatus: () => Object.fromEntries([...agent.channels].map(([n, ch]) => [`CHANNEL.${n}`, Object.fromEntries(Object.entries(ch.status()).map(([k, v]) => [k, String(v)]))])),
    });
  }
  await agent.start();
  let stopping: Promise<void> | undefined;
  return {
    agent,
    config,
    metrics,
    metricsPort: server?.port,
    log,
    stop: () =>
      (stopping ??= (async () => {
        await agent.stop();
        await server?.close();
      })()),
  };
}

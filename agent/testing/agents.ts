/**
 * In-process agents for tests: build one from a YAML string with extra test plugins registered, wait on its
 * metrics, and stop everything a test started.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { silentLogger } from '../log.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import { PluginRegistry } from '../registry.ts';
import { startAgent, type RunningAgent } from '../run.ts';
import type { PluginDefinition } from '../types.ts';

export class TestAgents {
  private readonly running: RunningAgent[] = [];
  private readonly dirs: string[] = [];

  /** Writes `yaml` to a temp dir and starts its agent with `defs` registered beside the built-ins. */
  async start(yaml: string, defs: readonly PluginDefinition[] = [], log: Logger = silentLogger()): Promise<RunningAgent> {
    const dir = mkdtempSync(join(tmpdir(), 'fta-test-agent-'));
    this.dirs.push(dir);
    writeFileSync(join(dir, 'agent.yaml'), yaml);
    const registry = new PluginRegistry();
    for (const d of defs) registry.register(d);
    const agent = await startAgent({ conf: join(dir, 'agent.yaml'), log, metricsPort: false, registry });
    this.running.push(agent);
    return agent;
  }

  /** Stops every agent started here and removes their directories (use in afterEach). */
  async stopAll(): Promise<void> {
    for (const a of this.running.splice(0)) await a.stop();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The stats of the named component (sinks, sources and channels may share a name: `kind` picks one). */
export function componentStats(agent: RunningAgent, name: string, kind?: ComponentStats['kind']): ComponentStats {
  const s = agent.metrics.components.find((c) => c.name === name && (!kind || c.kind === kind));
  if (!s) throw new Error(`No component "${name}"${kind ? ` of kind ${kind}` : ''}.`);
  return s;
}

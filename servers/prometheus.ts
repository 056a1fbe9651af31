/**
 * Prometheus from Debian (bookworm's 2.42) on 127.0.0.1:9090, unpacked from the .deb into
 * `.servers/prometheus/libs` (its UI asset dependencies are not needed: only the HTTP API is used).
 *
 * It scrapes every second whatever `setPrometheusTargets` lists, through file-based discovery, so tests point
 * it at an agent's metrics port without restarting it. Prometheus applies target changes at most every 5 s, so
 * the first sample of a new target appears after about 6 s: poll /api/v1/query (or `waitForPrometheusTarget`)
 * rather than sleeping.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchDebs } from './fetch.ts';
import { serverDir, type ServerDef } from './layout.ts';
import { http, httpReady } from './probe.ts';

export const PROMETHEUS_PORT = 9090;
const TARGETS_FILE = join(serverDir('prometheus'), 'conf', 'targets.json');

/** Replaces the scraped targets (`host:port`, metrics path /metrics) with `targets`; takes effect within ~6 s. */
export function setPrometheusTargets(targets: readonly string[], labels: Readonly<Record<string, string>> = {}): void {
  const tmp = `${TARGETS_FILE}.tmp`;
  writeFileSync(tmp, JSON.stringify(targets.length ? [{ targets, labels }] : []));
  renameSync(tmp, TARGETS_FILE); // atomic, so Prometheus never reads half a file
}

/** Waits until Prometheus has scraped `target` successfully at least once. */
export async function waitForPrometheusTarget(target: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    const r = await http(PROMETHEUS_PORT, '/api/v1/targets?state=active');
    if (r.status !== 200) continue;
    const active = (JSON.parse(r.body) as { data: { activeTargets: { scrapeUrl: string; health: string }[] } }).data.activeTargets;
    if (active.some((t) => t.scrapeUrl.includes(`//${target}/`) && t.health === 'up')) return;
  }
  throw new Error(`Prometheus has not scraped ${target} within ${timeoutMs} ms; see ${PROMETHEUS_PORT}/api/v1/targets`);
}

const CONFIG = `# written by servers/prometheus.ts on every start
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fintrans-agent
    file_sd_configs:
      - files: ['${TARGETS_FILE}']
        refresh_interval: 1s
`;

export const prometheus: ServerDef = {
  name: 'prometheus',
  version: 'Prometheus 2.42.0 (Debian prometheus 2.42.0+ds-5+deb12u1)',
  ports: [PROMETHEUS_PORT],
  needsJava: false,
  readyTimeoutMs: 30_000,

  fetch: (ctx) => fetchDebs(ctx, [{ name: 'prometheus', version: '2.42.0+ds-5+deb12u1' }]),

  async configure(ctx, fresh) {
    if (fresh) rmSync(ctx.data, { recursive: true, force: true });
    writeFileSync(join(ctx.conf, 'prometheus.yml'), CONFIG);
    if (fresh || !existsSync(TARGETS_FILE)) setPrometheusTargets([]);
  },

  processes: (ctx) => [
    {
      id: 'prometheus',
      cmd: join(ctx.libs, 'usr', 'bin', 'prometheus'),
      args: [
        `--config.file=${join(ctx.conf, 'prometheus.yml')}`,
        `--storage.tsdb.path=${ctx.data}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
        '--web.enable-lifecycle', // POST /-/reload and /-/quit for tests that change more than targets
      ],
    },
  ],

  ready: () => httpReady(PROMETHEUS_PORT, '/-/ready'),
};

/**
 * Where custom plugins come from: `type: ./path.js` (relative to the config file), `type: <package name>`, or the
 * `plugins:` list, and nowhere else. Modules that sit beside the config but are not named by it must never be
 * imported (a security requirement: dropping a file into a folder must not run code in the agent).
 * Unknown types are also covered by agent/config/validate.test.ts and test/cli.test.ts ("file_rol").
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../test/helpers/pipeline.ts';
import { ConfigError, formatProblem } from './config/problems.ts';
import { silentLogger } from './log.ts';
import { loadAndValidate, startAgent, type RunningAgent } from './run.ts';

const dir = tempDir('fta-plugin-loading-');
const running: RunningAgent[] = [];
afterAll(async () => {
  for (const a of running) await a.stop();
});

/**
 * A plain-JS sink module that leaves a marker file beside itself when imported (a top-level side effect) and
 * writes one line per event it receives to <configDir>/<component>.out.
 */
function sinkModule(type: string, marker: string): string {
  return `import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
writeFileSync(new URL('./${marker}', import.meta.url), 'imported');
export default {
  kind: 'sink',
  type: '${type}',
  description: 'test sink: one line per event',
  schema: { type: 'object', properties: {} },
  create: (_config, ctx) => ({ write: async (events) => appendFileSync(join(ctx.configDir, ctx.name + '.out'), events.map(() => 'x\\n').join('')) }),
};
`;
}

function writePackage(name: string, type: string, marker: string): string {
  const root = join(dir, 'node_modules', name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(root, 'index.js'), sinkModule(type, marker));
  return root;
}

mkdirSync(join(dir, 'plugins'));
writeFileSync(join(dir, 'plugins', 'path-sink.js'), sinkModule('by-path', 'path-sink.imported'));
const pkg = writePackage('fta-test-package-sink', 'by-package', 'package-sink.imported');
// Bait: valid plugin modules in every place a loader might scan, that no config below names.
writeFileSync(join(dir, 'bait.js'), sinkModule('bait-beside', 'bait-beside.imported'));
writeFileSync(join(dir, 'plugins', 'bait.js'), sinkModule('bait-plugins', 'bait-plugins.imported'));
const baitPkg = writePackage('fta-bait-package', 'bait-package', 'bait-package.imported');
const baitMarkers = [join(dir, 'bait-beside.imported'), join(dir, 'plugins', 'bait-plugins.imported'), join(baitPkg, 'bait-package.imported')];

const COUNT = 200;
function config(name: string, sinkType: string, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `metrics: { enabled: false }\n${extra}agents:\n  a:\n    sources:\n      gen: { type: generator, count: ${COUNT}, rate: 0, channels: [c] }\n    channels:\n      c: { type: memory }\n    sinks:\n      ${name}: { type: ${sinkType}, channel: c }\n`);
  return file;
}

async function runToEnd(conf: string, sink: string): Promise<string[]> {
  const agent = await startAgent({ conf, log: silentLogger(), metricsPort: false, watch: false });
  running.push(agent);
  const drained = () => agent.metrics.components.find((c) => c.name === sink && c.kind === 'sink')!.get('events_drained_total');
  await waitFor(`${COUNT} events in ${sink}`, () => drained() >= COUNT);
  await agent.stop();
  return readFileSync(join(dir, `${sink}.out`), 'utf8').split('\n').filter(Boolean);
}

describe('plugin loading', () => {
  it('loads and runs a sink named by a path relative to the config file', async () => {
    const conf = config('path_sink', './plugins/path-sink.js');
    expect(await runToEnd(conf, 'path_sink')).toHaveLength(COUNT);
    expect(existsSync(join(dir, 'plugins', 'path-sink.imported'))).toBe(true);
  });

  it('loads and runs a sink named by the package it is installed as, resolved from the config folder', async () => {
    const conf = config('package_sink', 'fta-test-package-sink');
    expect(await runToEnd(conf, 'package_sink')).toHaveLength(COUNT);
    expect(existsSync(join(pkg, 'package-sink.imported'))).toBe(true);
  });

  it('loads a `plugins:` module and uses it by its type name', async () => {
    const conf = config('listed_sink', 'by-path', 'plugins: [./plugins/path-sink.js]\n');
    const validated = await loadAndValidate(conf);
    expect(validated.agents.a!.sinks[0]!.def.type).toBe('by-path');
  });

  it('never imports a module the config does not name, in validate or in a run', async () => {
    // The markers of named modules appear (see above), so this is not vacuous: the bait is simply never imported.
    for (const m of baitMarkers) expect(existsSync(m)).toBe(false);
    await loadAndValidate(config('validated', './plugins/path-sink.js'));
    for (const m of baitMarkers) expect(existsSync(m)).toBe(false);
    await runToEnd(config('ran', 'fta-test-package-sink', 'plugins: [./plugins/path-sink.js]\n'), 'ran');
    for (const m of baitMarkers) expect(existsSync(m)).toBe(false);
  });

  it('refuses an unknown type with a located problem that lists the known types, the `plugins:` ones included', async () => {
    const conf = config('unknown', 'fta-not-installed', 'plugins: [./plugins/path-sink.js]\n');
    const error = await loadAndValidate(conf).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/unknown\.yaml:10:\d+ agents\.a\.sinks\.unknown\.type: unknown sink type "fta-not-installed"/);
    expect(text).toMatch(/Built-in sink types: .*by-path.*file_roll.*null/);
    for (const m of baitMarkers) expect(existsSync(m)).toBe(false);
  });
});

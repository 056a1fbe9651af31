/**
 * The `fintrans-agent` command. Exit codes: 0 after a clean stop, 2 for a configuration or usage error (with every
 * problem listed, never a stack trace), 1 for a fatal runtime error.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { AgentError, ErrorCodes, errorMessage } from './errors.ts';
import { ConfigError, formatProblem } from './config/problems.ts';
import { componentSchema } from './config/schemas.ts';
import { renderPluginDocs } from './docs.ts';
import { PluginRegistry } from './registry.ts';
import { convertCommand } from './config/flume/convert.ts';
import { replay } from './offline/replay.ts';
import { runTests } from './offline/test-command.ts';
import { loadAndValidate, pickAgent, startAgent } from './run.ts';
import type { ComponentKind } from './types.ts';

const USAGE = `Usage:
  fintrans-agent [run] --conf FILE [--name AGENT]   run one agent (FILE: cwd first, then the package's conf/)
  fintrans-agent validate --conf FILE [--name AGENT] check a configuration; every problem with file:line:column
  fintrans-agent test --conf FILE [--tests FILE]    run the test cases beside a config (FILE.test.yaml); exit 1 on failure
  fintrans-agent replay --conf FILE --input GLOB [--source NAME] [--json]
                                                    back-test a config's processors on stored JSON lines; hits per rule
  fintrans-agent convert --conf FILE [--name AGENT]  print a Flume properties file's YAML equivalent
  fintrans-agent plugins [--json]                   list the available plugins
  fintrans-agent plugins --json-schema KIND/TYPE    print one component's JSON Schema (for editors)
  fintrans-agent docs                               print the plugin reference (Markdown)
Options: --conf, -c FILE · --name, -n AGENT · --help · --version`;

function usage(message: string): never {
  throw new AgentError(ErrorCodes.USAGE, `${message}\n${USAGE}`);
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        conf: { type: 'string', short: 'c' },
        name: { type: 'string', short: 'n' },
        json: { type: 'boolean' },
        'json-schema': { type: 'string' },
        tests: { type: 'string' },
        input: { type: 'string', short: 'i', multiple: true },
        source: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`), 0;
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL(import.meta.url.includes('/dist/') ? '../../package.json' : '../package.json', import.meta.url), 'utf8'));
    return void process.stdout.write(`${pkg.version}\n`), 0;
  }
  const command = positionals[0] ?? 'run';
  try {
    switch (command) {
      case 'run':
        return await run(values.conf, values.name);
      case 'validate':
        return await validate(values.conf, values.name);
      case 'test':
        if (!values.conf) usage('test needs --conf FILE.');
        return await runTests({ conf: values.conf, name: values.name, tests: values.tests, out: process.stdout });
      case 'replay':
        if (!values.conf || !values.input?.length) usage('replay needs --conf FILE and --input GLOB (quoted).');
        await replay({ conf: values.conf, name: values.name, source: values.source, inputs: values.input, json: values.json, out: process.stdout });
        return 0;
      case 'convert':
        if (!values.conf) usage('convert needs --conf FILE.');
        return await convertCommand(values.conf, values.name, process.stdout);
      case 'plugins':
        return await plugins(values.json ?? false, values['json-schema']);
      case 'docs':
        process.stdout.write(await renderPluginDocs(new PluginRegistry()));
        return 0;
      default:
        usage(`Unknown command "${command}".`);
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration is invalid (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}):\n`);
    for (const p of error.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
    return 2;
  }
  if (error instanceof AgentError && [ErrorCodes.USAGE, ErrorCodes.CONFIG_NOT_FOUND, ErrorCodes.CONFIG_PARSE, ErrorCodes.CONFIG_INVALID, ErrorCodes.PLUGIN_LOAD, ErrorCodes.PLUGIN_INVALID].includes(error.code as never)) {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    return 2;
  }
  process.stderr.write(`Fatal: ${errorMessage(error)}\n`);
  return 1;
}

async function validate(conf: string | undefined, name: string | undefined): Promise<number> {
  if (!conf) usage('validate needs --conf FILE.');
  const config = await loadAndValidate(conf, { name });
  const names = name ? [pickAgent(config, name)] : Object.keys(config.agents);
  for (const n of names) {
    const a = config.agents[n]!;
    process.stdout.write(`OK ${config.file}: agent "${n}": ${a.sources.length} sources, ${a.processors.length} processors, ${a.channels.length} channels, ${a.sinks.length} sinks.\n`);
  }
  return 0;
}

async function plugins(json: boolean, schemaOf: string | undefined): Promise<number> {
  const registry = new PluginRegistry();
  const all = await registry.all();
  if (schemaOf) {
    const [kind, type] = schemaOf.includes('/') ? schemaOf.split('/', 2) : [undefined, schemaOf];
    const def = all.find((d) => d.type === type && (!kind || d.kind === kind));
    if (!def) usage(`No plugin "${schemaOf}". Use KIND/TYPE, e.g. sink/file_roll.`);
    process.stdout.write(`${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: `${def.kind} ${def.type}`, description: def.description, ...componentSchema(def.kind as ComponentKind, def.schema) }, null, 2)}\n`);
    return 0;
  }
  if (json) process.stdout.write(`${JSON.stringify(all.map((d) => ({ kind: d.kind, type: d.type, description: d.description })), null, 2)}\n`);
  else for (const d of all) process.stdout.write(`${d.kind.padEnd(10)} ${d.type.padEnd(14)} ${d.description}\n`);
  return 0;
}

async function run(conf: string | undefined, name: string | undefined): Promise<number> {
  if (!conf) usage('run needs --conf FILE (try conf/default.yaml).');
  // Handlers go in before the agent starts: a SIGTERM while Kafka connects or a channel recovers must still stop
  // gracefully once started, not kill the process in the middle of a batch.
  let signals = 0;
  let pending: string | undefined;
  let stop: ((sig: string) => void) | undefined;
  const onSignal = (sig: string) => {
    if (++signals > 1) {
      process.stderr.write(`Second ${sig}: exiting without waiting for the drain.\n`);
      process.exit(1);
    }
    if (stop) stop(sig);
    else pending = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP reloads the configuration (its default action would kill the agent); one during the start is kept for after.
  let reload: (() => void) | undefined;
  let hangup = false;
  process.on('SIGHUP', () => (reload ? reload() : (hangup = true)));
  const running = await startAgent({ conf, name });
  reload = () => void running.reload('SIGHUP');
  if (hangup) reload();
  return new Promise<number>((resolve) => {
    stop = (sig: string) => {
      running.log.info({ signal: sig }, 'Stopping gracefully.');
      running.stop().then(() => resolve(0), (error) => (running.log.error({ error: errorMessage(error) }, 'Stop failed.'), resolve(1)));
    };
    if (pending) stop(pending);
  });
}

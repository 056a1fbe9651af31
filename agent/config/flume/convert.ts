/**
 * `fintrans-agent convert --conf flume.conf [--name agent]`: prints the YAML equivalent of a Flume properties
 * file. The result is validated first (with problems at the .conf lines), so what is printed runs as it is.
 * `${env:NAME}` values are printed as `${NAME}`, so secrets stay in the environment.
 */
import { readFileSync } from 'node:fs';
import { AgentError, ErrorCodes } from '../../errors.ts';
import { PluginRegistry } from '../../registry.ts';
import { parseConfigText, resolveConfPath } from '../load.ts';
import { ConfigError } from '../problems.ts';
import { validateConfig } from '../validate.ts';
import { flumeToYaml, looksLikeFlume } from './loader.ts';

export interface ConvertOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  registry?: PluginRegistry;
}

export async function convertCommand(conf: string, name: string | undefined, out: NodeJS.WritableStream, options: ConvertOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const file = resolveConfPath(conf, options.cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AgentError(ErrorCodes.CONFIG_NOT_FOUND, `Cannot read configuration file ${file}: ${(error as Error).message}`);
  }
  if (!looksLikeFlume(file, text)) {
    throw new ConfigError([{ path: [], file, message: 'this is not a Flume properties file (no <agent>.sources = ... lines, or a .yaml/.yml/.json name): convert reads Flume configurations; YAML ones run as they are.' }]);
  }
  const yaml = flumeToYaml(text, file, env, name);
  if (name !== undefined && !yaml.agents.includes(name)) {
    throw new ConfigError([{ path: [], file, message: `no Flume agent named "${name}": the file defines ${yaml.agents.join(', ')}. Pick one with --name.` }]);
  }
  await validateConfig(parseConfigText(text, file, env, name), options.registry ?? new PluginRegistry());
  out.write(yaml.text);
  return 0;
}

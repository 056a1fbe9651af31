/**
 * Loads a Flume properties file as a configuration: parse (properties.ts), translate (translate.ts), write the
 * equivalent YAML with each line's .conf origin (yaml-out.ts), and load that YAML as any other configuration. The
 * loaded config's line counter answers with .conf positions, so every problem validation finds later (a bad value,
 * a dangling channel) is reported at the Flume file's line, while `fintrans-agent convert` prints the same YAML.
 */
import { extname, basename } from 'node:path';
import type { LoadedConfig } from '../load.ts';
import { ConfigError, type Problem } from '../problems.ts';
import { parseProperties } from './properties.ts';
import { translateFlume } from './translate.ts';
import { confLineCounter, toConf, writeYaml, type LineOrigin } from './yaml-out.ts';

/** `<agent>.sources = …` (or channels, sinks, sinkgroups) at the start of a line. */
const AGENT_LIST = /^[ \t\f]*[^\s#!=:.]+\.(sources|channels|sinks|sinkgroups)[ \t\f]*(?:[=:]|[ \t\f]+\S)/m;
/** `<agent>.<…> = value`: a dotted key with `=` never starts a YAML line. */
const DOTTED_ASSIGNMENT = /^[A-Za-z0-9_-]+\.[^\s=:]+[ \t\f]*=/m;

/** A Flume file: `.properties`, or any name but .yaml/.yml/.json whose content reads as Flume properties. */
export function looksLikeFlume(file: string, text: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') return false;
  return ext === '.properties' || AGENT_LIST.test(text) || DOTTED_ASSIGNMENT.test(text);
}

export interface FlumeYaml {
  text: string;
  origins: (LineOrigin | undefined)[];
  agents: string[];
  warnings: Problem[];
}

/** The YAML equivalent of a Flume file; throws ConfigError with every problem at its .conf line. */
export function flumeToYaml(text: string, file: string, env: NodeJS.ProcessEnv, name?: string): FlumeYaml {
  const parsed = parseProperties(text);
  const problems: Problem[] = parsed.problems.map((p) => ({ path: [], file, line: p.line, col: p.col, message: p.message }));
  const t = translateFlume(parsed.properties, file, env, name);
  problems.push(...t.problems);
  if (problems.length) throw new ConfigError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  const header = [
    `Converted from the Flume configuration ${basename(file)} (agent${t.agents.length === 1 ? '' : 's'} ${t.agents.join(', ')}) by fintrans-agent.`,
    '"line N" names the .conf line each key comes from; keys the .conf leaves out take Flume\'s default where it says so,',
    'else this project\'s default (see the plugin reference in README.md).',
    ...(t.warnings.length ? ['', 'Warnings:', ...t.warnings.map((w) => `  line ${w.line}: ${w.message}`)] : []),
  ];
  const { text: yaml, origins } = writeYaml(t.root, header);
  return { text: yaml, origins, agents: t.agents, warnings: t.warnings };
}

export type YamlLoader = (text: string, file: string, env: NodeJS.ProcessEnv) => LoadedConfig;

/** Loads a Flume file through the YAML loader (which substitutes `${VAR}`), with positions in the .conf file. */
export function loadFlumeConfig(text: string, file: string, env: NodeJS.ProcessEnv, name: string | undefined, loadYaml: YamlLoader): LoadedConfig {
  const y = flumeToYaml(text, file, env, name);
  let loaded: LoadedConfig;
  try {
    loaded = loadYaml(y.text, file, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.problems.map((p) => ({ ...p, ...toConf(y.origins, p.line, p.col) })));
  }
  return { ...loaded, lines: confLineCounter(loaded.lines, y.origins), warnings: y.warnings };
}

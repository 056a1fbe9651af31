/**
 * Reads a YAML configuration, substitutes `${ENV}` / `${ENV:-default}` in values (never in keys), and keeps the
 * parsed document so every later problem can be reported at its line and column.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { AgentError, ErrorCodes } from '../errors.ts';
import { looksLikeFlume, loadFlumeConfig } from './flume/loader.ts';
import { secretValues } from '../log.ts';
import { SECRET_KEY } from './ajv-problems.ts';
import { ConfigError, formatProblem, rememberEnvValue, type Problem } from './problems.ts';

export interface LoadedConfig {
  file: string;
  dir: string;
  doc: Document;
  lines: LineCounter;
  /** The plain value after substitution. */
  value: unknown;
  /** Values that came from the environment, so they can be redacted when printed. */
  envValues: Set<string>;
  /** What a Flume file's translation adapted (each at its .conf line); absent for YAML files. */
  warnings?: Problem[];
}

/** The package's own conf/ folder, for `--conf kafka-hdfs.yaml` from anywhere. */
export const PACKAGE_CONF_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'conf');

/** Resolves --conf: the working directory first, then the package's conf/ folder. */
export function resolveConfPath(arg: string, cwd = process.cwd()): string {
  const direct = isAbsolute(arg) ? arg : resolve(cwd, arg);
  if (existsSync(direct)) return direct;
  const packaged = join(PACKAGE_CONF_DIR, arg);
  if (!isAbsolute(arg) && existsSync(packaged)) return packaged;
  throw new AgentError(
    ErrorCodes.CONFIG_NOT_FOUND,
    `Configuration file "${arg}" not found in ${cwd} nor in ${PACKAGE_CONF_DIR}. Pass a path to an existing file with --conf.`,
  );
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Position of a node: [line, col], 1-based. */
export function positionOf(lines: LineCounter, node: Node | null | undefined): { line?: number; col?: number } {
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  const { line, col } = lines.linePos(offset);
  return { line, col };
}

/** `name` picks the agent of a Flume file to translate (Flume reads only that one); YAML files ignore it. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, name?: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AgentError(ErrorCodes.CONFIG_NOT_FOUND, `Cannot read configuration file ${file}: ${(error as Error).message}`);
  }
  const loaded = parseConfigText(text, file, env, name);
  for (const w of loaded.warnings ?? []) process.emitWarning(formatProblem(w), 'FlumeConfigWarning');
  return loaded;
}

/** A YAML configuration, or a Flume properties file (by extension or content), translated with .conf positions. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, name?: string): LoadedConfig {
  return looksLikeFlume(file, text) ? loadFlumeConfig(text, file, env, name, parseYamlText) : parseYamlText(text, file, env);
}

function parseYamlText(text: string, file: string, env: NodeJS.ProcessEnv): LoadedConfig {
  const problems: Problem[] = [];
  const envValues = new Set<string>();
  // Substitution is textual, line by line, before parsing, so `${X}` works anywhere a value can stand (flow maps
  // included) and takes the YAML type of what it expands to; line numbers stay exact. Comment lines are left alone.
  const substituted = text
    .split('\n')
    .map((line, i) => {
      if (!line.includes('${') || line.trimStart().startsWith('#')) return line;
      return line.replace(ENV_REF, (_m, name: string, def: string | undefined, offset: number) => {
        const v = env[name];
        if (v !== undefined && v !== '') {
          if (/[\r\n]/.test(v)) {
            problems.push({ path: [], file, line: i + 1, col: offset + 1, message: `environment variable ${name} contains a line break, which could change the structure of the file: remove it or use a *File key.` });
            return '';
          }
          envValues.add(v);
          rememberEnvValue(name, v);
          // A credential (by the variable's name or the key it is given to) is also kept out of logs and /status.
          if (SECRET_KEY.test(name) || SECRET_KEY.test(line.slice(0, offset).match(/([A-Za-z0-9_-]+)\s*:[^:]*$/)?.[1] ?? '')) secretValues.add(v, `\${${name}}`);
          return v;
        }
        if (def !== undefined) return def;
        problems.push({ path: [], file, line: i + 1, col: offset + 1, message: `environment variable ${name} is not set: export it, or give a default with \${${name}:-value}.` });
        return '';
      });
    })
    .join('\n');
  const lines = new LineCounter();
  const doc = parseDocument(substituted, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push({ path: [], file, line: pos?.line, col: pos?.col, message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  if (problems.length) throw new ConfigError(problems);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias without its anchor (`*x`) or an alias bomb parses but cannot be resolved: locate the first alias.
    const alias = /Unresolved alias[^"]*"([^"]+)"/.exec((error as Error).message)?.[1];
    const at = alias ? substituted.indexOf(`*${alias}`) : -1;
    const pos = at >= 0 ? lines.linePos(at) : { line: 1, col: 1 };
    throw new ConfigError([{ path: [], file, line: pos.line, col: pos.col, message: `YAML error: ${(error as Error).message.split('\n')[0]}: define the anchor (&name) before using *name.` }]);
  }
  return { file, dir: dirname(file), doc, lines, value, envValues };
}

/** The YAML node at a config path, or the nearest existing ancestor, for locating a problem. */
export function nodeAt(doc: Document, path: readonly (string | number)[]): { node: Node | null; keyNode: Node | null; exact: boolean } {
  let node: unknown = doc.contents;
  let keyNode: Node | null = null;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) return { node: node as Node, keyNode, exact: false };
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item === undefined) return { node: node as Node, keyNode, exact: false };
      node = item;
      keyNode = null;
    } else {
      return { node: (node as Node) ?? null, keyNode, exact: false };
    }
  }
  return { node: (node as Node) ?? null, keyNode, exact: true };
}

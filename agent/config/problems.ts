/**
 * Configuration problems: every one carries the file, line and column, the component path and what to do. The
 * loader and validator collect all of them in one pass; `ConfigError` reports them together (exit code 2).
 */
import { AgentError, ErrorCodes } from '../errors.ts';
import { secretValues } from '../log.ts';

export interface Problem {
  /** Path in the config, e.g. ['agents', 'agent', 'sinks', 'out', 'directory']. */
  path: (string | number)[];
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

/**
 * Values substituted from ${ENV}, by value, with the reference they came from. A problem message does not echo
 * one: a value it shows is printed as its reference instead ("got ${INFLUX_TOKEN}"), which says where to look
 * without printing what the environment holds, whatever key the value landed in. Bounded: a reload adds the same.
 */
const fromEnv = new Map<string, string>();
const MAX_ENV_VALUES = 1000;
/**
 * In free text (paths, cross-key messages) only long values are replaced, and credentials (see secretValues):
 * hiding "memory" or "5000" wherever they occur would garble messages about literals that happen to match.
 */
const MIN_HIDDEN_IN_TEXT = 12;

export function rememberEnvValue(name: string, value: string): void {
  if (value !== '' && fromEnv.size < MAX_ENV_VALUES) fromEnv.set(value, `\${${name}}`);
}

/** The ${REF} a value came from, when the whole value came from the environment. */
export function envReferenceOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? fromEnv.get(String(value)) : undefined;
}

/** `text` with long environment values replaced by their reference, and every known credential scrubbed. */
export function hideEnvValues(text: string): string {
  for (const [value, ref] of fromEnv) if (value.length >= MIN_HIDDEN_IN_TEXT && text.includes(value)) text = text.split(value).join(ref);
  return secretValues.scrub(text);
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p) => String(p)).join('.');
}

export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.col ?? 1}` : ''}` : '';
  const path = p.path.length ? formatPath(p.path) : '(top level)';
  return `${where ? `${where} ` : ''}${hideEnvValues(path)}: ${hideEnvValues(p.message)}`;
}

export class ConfigError extends AgentError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const n = problems.length;
    super(ErrorCodes.CONFIG_INVALID, `Configuration has ${n} problem${n === 1 ? '' : 's'}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Edit distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

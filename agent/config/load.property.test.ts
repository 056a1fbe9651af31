/**
 * Property: whatever text a configuration file holds and whatever the environment says, loading and validating it
 * either succeeds or fails with a ConfigError whose every problem has a line and column (or another AgentError with
 * a code), never with any other exception, and never echoes an environment value in a problem message.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../errors.ts';
import { parseConfigText } from './load.ts';
import { ConfigError, formatProblem } from './problems.ts';
import { validateConfig } from './validate.ts';

const FILE = join('/nonexistent', 'agent.yaml');

/** Pieces that YAML, the ${ENV} substitution and the validator care about, in any order. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('\n', '\n  ', '\n    ', '\n      ', '  ', ': ', ':', '- ', ', ', '{', '}', '[', ']', '"', "'", '#', ' # c', '\t', '\r\n') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('agents', 'a', 'sources', 'channels', 'sinks', 'processors', 'type', 'memory', 'null', 'generator', 'channel', 'c', 'capacity', 'batchSize', 'deadLetter', 'metrics', 'token', 'password', 'logLevel', 'sinkGroups', 'selector', 'spoolDir', 'file_roll', 'directory', 'keepAlive', '5s', 'soon', '10', '-1', '1e309', 'true', '~', '""'),
  },
  { weight: 3, arbitrary: fc.constantFrom('${SET}', '${EMPTY}', '${UNSET}', '${UNSET:-3}', '${UNSET:-}', '${NEWLINE}', '${COLON}', '${BRACE}', '${', '$', '}', '${SET:-x}', '$${SET}') },
  { weight: 2, arbitrary: fc.constantFrom('&x ', '*x', '*y', '<<: *x', '!!str ', '!!binary ', '!custom ', '|', '>-', '---', '...', '%YAML 1.2\n', '? ', '\ufeff', '@', '`', '%') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'grapheme' }) },
);

const env = fc.record({
  SET: fc.constantFrom('memory', '42', 'x: y', '[1', 'a b', 's3cr3t-env-value'),
  EMPTY: fc.constant(''),
  NEWLINE: fc.constantFrom('a\nb', '\r'),
  COLON: fc.constant('k: v'),
  BRACE: fc.constant('{'),
});

/** The exceptions the loader may throw: every problem located, or a coded AgentError. */
function expectCleanFailure(error: unknown, text: string, vars: NodeJS.ProcessEnv): void {
  if (error instanceof ConfigError) {
    expect(error.problems.length, text).toBeGreaterThan(0);
    for (const p of error.problems) {
      expect(formatProblem(p), text).toMatch(/^\/nonexistent\/agent\.yaml:\d+:\d+ /);
      expect(p.line ?? 1, text).toBeGreaterThanOrEqual(1);
    }
    return;
  }
  expect(error, `${String(error)}\n--- for ---\n${text}`).toBeInstanceOf(AgentError);
  expect((error as AgentError).code, text).toMatch(/^FTA_/);
}

describe('the config loader', () => {
  it('property: random YAML-ish text with random ${ENV} use loads and validates, or fails with located problems', async () => {
    let parsed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), env, async (pieces, vars) => {
        const text = pieces.join('');
        try {
          const loaded = parseConfigText(text, FILE, vars);
          expect(loaded.file).toBe(FILE);
          parsed++;
          await validateConfig(loaded);
        } catch (error) {
          expectCleanFailure(error, text, vars);
          if (error instanceof ConfigError) for (const p of error.problems) expect(formatProblem(p)).not.toContain('s3cr3t-env-value');
        }
      }),
      { numRuns: 1500 },
    );
    // Enough of the texts are YAML for the validator to be exercised too, not only the parser.
    expect(parsed).toBeGreaterThan(150);
  });

  it('property: a valid config with values mutated at random still fails cleanly or passes', async () => {
    const base = ['agents:', '  a:', '    sources:', '      g: { type: generator, channels: [c], rate: 10 }', '    channels:', '      c: { type: memory, capacity: 100 }', '    sinks:', '      k: { type: null, channel: c }', ''];
    const value = fc.constantFrom('${SET}', '${UNSET}', '[]', '{}', '-5', '0', '"x"', 'null', '*x', '&x 1', '[c, c]', '{ type: memory }', '1.5', '5s', 'soon');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: base.length - 1 }), fc.nat({ max: 80 }), value, env, async (line, col, v, vars) => {
        const lines = [...base];
        const l = lines[line]!;
        const at = Math.min(col, l.length);
        lines[line] = l.slice(0, at) + v + l.slice(at);
        const text = lines.join('\n');
        try {
          await validateConfig(parseConfigText(text, FILE, vars));
        } catch (error) {
          expectCleanFailure(error, text, vars);
        }
      }),
      { numRuns: 400 },
    );
  });
});

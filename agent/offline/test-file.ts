/**
 * The test file of `fintrans-agent test`: YAML next to a pipeline config (`pipeline.test.yaml` beside
 * `pipeline.yaml`, or any file given with --tests). Validated like a config, so a typo is reported at its line.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { compile } from '../config/ajv.ts';
import { ajvProblems } from '../config/ajv-problems.ts';
import { loadConfig, nodeAt, positionOf } from '../config/load.ts';
import { ConfigError } from '../config/problems.ts';
import { AgentError, ErrorCodes } from '../errors.ts';
import type { ChannelExpectation } from './match.ts';

export interface TestCase {
  name: string;
  agent?: string;
  source?: string;
  processor?: string;
  input: unknown[];
  tick?: string | number;
  stop?: boolean;
  expect: Record<string, ChannelExpectation | unknown[]>;
}

export interface TestFile {
  file: string;
  agent?: string;
  tests: TestCase[];
  /** [line, column] of each test, for the report. */
  positions: { line?: number; col?: number }[];
}

const eventList = { type: 'array', description: 'Expected events: partial JSON bodies, optionally with $headers.' };

export const TEST_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['tests'],
  properties: {
    agent: { type: 'string', description: 'The agent of the config to test; may be omitted when it defines one.' },
    tests: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'input', 'expect'],
        properties: {
          name: { type: 'string', minLength: 1, description: 'What the case proves.' },
          agent: { type: 'string', description: 'The agent this case runs on, when not the file\'s agent.' },
          source: { type: 'string', description: 'Feed the input through this source\'s processors and selector.' },
          processor: { type: 'string', description: 'Feed the input to this one processor; what passes is `passed`.' },
          input: { type: 'array', description: 'Input events: JSON objects (with optional $headers) or text lines.' },
          tick: { type: ['string', 'number'], description: 'After the input, give time-driven processors this clock (ISO-8601 or epoch ms).' },
          stop: { type: 'boolean', description: 'After the input, stop the processors gracefully (open windows are emitted).' },
          expect: {
            type: 'object',
            minProperties: 1,
            description: 'Per channel (or `passed`, or the dead-letter channel): a list of events, or { events, contains, absent, count }.',
            additionalProperties: {
              anyOf: [
                eventList,
                {
                  type: 'object',
                  additionalProperties: false,
                  minProperties: 1,
                  properties: { events: eventList, contains: eventList, absent: eventList, count: { type: 'integer', minimum: 0, description: 'Exact number of events.' } },
                },
              ],
            },
          },
        },
        oneOf: [{ required: ['source'] }, { required: ['processor'] }],
      },
    },
  },
};

/** The default test file of a config: `x.test.yaml` beside `x.yaml`. */
export function defaultTestFile(conf: string): string {
  const ext = extname(conf);
  const file = join(dirname(conf), `${basename(conf, ext)}.test${ext || '.yaml'}`);
  if (!existsSync(file)) throw new AgentError(ErrorCodes.CONFIG_NOT_FOUND, `No test file ${file} beside ${conf}: write one, or name it with --tests FILE.`);
  return file;
}

export function loadTestFile(file: string): TestFile {
  const loaded = loadConfig(file);
  const validate = compile(TEST_FILE_SCHEMA);
  if (!validate(loaded.value)) {
    const problems = ajvProblems(validate.errors ?? [], []).map((p) => {
      const { node, keyNode, exact } = nodeAt(loaded.doc, p.path);
      return { path: p.path, message: p.message, file, ...positionOf(loaded.lines, exact && p.atKey && keyNode ? keyNode : node) };
    });
    throw new ConfigError(problems);
  }
  const value = loaded.value as { agent?: string; tests: TestCase[] };
  const positions = value.tests.map((_, i) => positionOf(loaded.lines, nodeAt(loaded.doc, ['tests', i]).node));
  return { file, agent: value.agent, tests: value.tests, positions };
}

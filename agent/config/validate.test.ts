import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.ts';
import { ConfigError, formatProblem } from './problems.ts';
import { validateConfig } from './validate.ts';

const dir = mkdtempSync(join(tmpdir(), 'fta-config-'));

async function problems(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await validateConfig(parseConfigText(yaml, join(dir, 'agent.yaml'), env));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map(formatProblem);
  }
}

const ok = `
agents:
  agent:
    channels:
      c1: { type: memory, capacity: 100, transactionCapacity: 10 }
    sinks:
      out: { type: null, channel: c1, batchSize: 10 }
`;

describe('configuration validation', () => {
  it('accepts a valid config, fills defaults and freezes it', async () => {
    const config = await validateConfig(parseConfigText(ok, join(dir, 'a.yaml'), {}));
    const ch = config.agents.agent!.channels[0]!;
    expect(ch.config.keepAlive).toBe(3);
    expect(ch.config.byteCapacity).toBe(0);
    expect(Object.isFrozen(ch.config)).toBe(true);
    expect(config.metrics).toMatchObject({ host: '127.0.0.1', port: 9464 });
    expect(config.agents.agent!.sinks[0]!.type).toBe('null');
  });

  it('reports an unknown key with its position, the valid keys and a suggestion', async () => {
    const p = await problems(`
agents:
  agent:
    channels:
      c1: { type: memory }
    sinks:
      out: { type: file_roll, channel: c1, diretory: /tmp/x }
`);
    expect(p.join('\n')).toMatch(/agent\.yaml:7:\d+ agents\.agent\.sinks\.out\.diretory: unknown key "diretory"; did you mean "directory"\?/);
    expect(p.join('\n')).toMatch(/Valid keys: .*rollInterval/);
    expect(p.join('\n')).toMatch(/missing required key "directory"/);
  });

  it('collects every problem in one pass: types, ranges, enums, durations, dangling references', async () => {
    const p = await problems(`
agents:
  agent:
    sources:
      s: { type: generator, channels: [c1, nope], batchSize: 5000, rate: fast }
    channels:
      c1: { type: memory, capacity: 10, transactionCapacity: 100, keepAlive: soon }
      c2: { type: memry }
    sinks:
      out: { type: logger, channel: c9 }
`);
    const all = p.join('\n');
    expect(all).toMatch(/sources\.s\.rate: must be (number|integer)/);
    expect(all).toMatch(/keepAlive: invalid duration "soon"/);
    expect(all).toMatch(/unknown channel type "memry"; did you mean "memory"\?/);
    expect(all).toMatch(/channel "nope" is not defined/);
    expect(all).toMatch(/sinks\.out\.channel: channel "c9" is not defined/);
    expect(all).toMatch(/transactionCapacity 100 exceeds capacity 10/);
    expect(all).toMatch(/channel "c1" is not drained by any sink/);
    for (const line of p) expect(line).toMatch(/agent\.yaml:\d+:\d+ /);
  });

  it('locates a sink with no channel, a source with no channels and a source with an empty channels list', async () => {
    const p = await problems(`
agents:
  a:
    sources:
      none: { type: generator }
      empty: { type: generator, channels: [] }
      fine: { type: generator, channels: [c1] }
    channels:
      c1: { type: memory }
    sinks:
      out: { type: null }
      drain: { type: null, channel: c1 }
`);
    // Each problem sits on the line of the component that has it, and nothing is said about the valid ones.
    expect(p).toHaveLength(3);
    expect(p).toContainEqual(expect.stringMatching(/agent\.yaml:5:\d+ agents\.a\.sources\.none: missing required key "channels"/));
    expect(p).toContainEqual(expect.stringMatching(/agent\.yaml:6:\d+ agents\.a\.sources\.empty\.channels: must NOT have fewer than 1 items/));
    expect(p).toContainEqual(expect.stringMatching(/agent\.yaml:11:\d+ agents\.a\.sinks\.out: missing required key "channel"/));
  });

  it('checks batchSize against the channel transactionCapacity on both ends', async () => {
    const p = await problems(`
agents:
  agent:
    sources:
      s: { type: generator, channels: [c1], batchSize: 50 }
    channels:
      c1: { type: memory, capacity: 100, transactionCapacity: 10 }
    sinks:
      out: { type: null, channel: c1, batchSize: 20 }
`);
    expect(p.join('\n')).toMatch(/sources\.s\.batchSize: batchSize 50 exceeds the transactionCapacity 10/);
    expect(p.join('\n')).toMatch(/sinks\.out\.batchSize: batchSize 20 exceeds the transactionCapacity 10/);
  });

  it('substitutes ${ENV} and ${ENV:-default}, typing whole-value references, and reports unset variables', async () => {
    const cfg = await validateConfig(parseConfigText(ok.replace('capacity: 100', 'capacity: ${CAP}').replace('batchSize: 10', 'batchSize: ${BS:-5}'), join(dir, 'b.yaml'), { CAP: '200' }));
    expect(cfg.agents.agent!.channels[0]!.config.capacity).toBe(200);
    expect(cfg.agents.agent!.sinks[0]!.config.batchSize).toBe(5);
    const p = await problems(ok.replace('capacity: 100', 'capacity: ${MISSING_CAP}'));
    expect(p.join('\n')).toMatch(/agent\.yaml:5:\d+ .*environment variable MISSING_CAP is not set/);
  });

  it('reports YAML syntax errors with a position', async () => {
    const p = await problems('agents:\n  agent: [unclosed\n');
    expect(p[0]).toMatch(/agent\.yaml:\d+:\d+ .*YAML syntax error/);
  });

  it('rejects unknown top-level and agent keys', async () => {
    const p = await problems(`${ok}\nmetric: {}\n`);
    expect(p.join('\n')).toMatch(/unknown key "metric"; did you mean "metrics"\?/);
  });

  it('loads a plugin module from a path and reports a broken one', async () => {
    writeFileSync(join(dir, 'broken.js'), 'export default { kind: "sink" };\n');
    const p = await problems(ok.replace('type: null', 'type: ./broken.js'));
    expect(p.join('\n')).toMatch(/Plugin "\.\/broken\.js" is invalid: type must be a non-empty string.*create must be a function/);
    const q = await problems(ok.replace('type: null', 'type: ./missing.js'));
    expect(q.join('\n')).toMatch(/Cannot load plugin module "\.\/missing\.js"/);
  });
});

describe('secrets in problems', () => {
  it('never echoes the value of a secret-looking key, even when it is wrong', async () => {
    const p = await problems(`
agents:
  agent:
    channels:
      c1: { type: memory }
    sinks:
      out: { type: kafka, channel: c1, bootstrapServers: [h:1], topic: t, sasl: { mechanism: plain, username: u, password: 12345678 } }
`);
    expect(p.join('\n')).toMatch(/sasl\.password: must be string, got \[redacted\]/);
    expect(p.join('\n')).not.toContain('12345678');
  });
});

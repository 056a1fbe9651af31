/**
 * Every configuration shipped in conf/ and examples/ validates (drift test: a renamed key breaks the build), and
 * every test file shipped beside one (`x.test.yaml`) passes under `fintrans-agent test`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTests } from '../agent/offline/test-command.ts';
import { loadAndValidate } from '../agent/run.ts';

const root = resolve(import.meta.dirname, '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

const all = [...yamlFiles(join(root, 'conf')), ...yamlFiles(join(root, 'examples'))];
const isTestFile = (f: string) => /\.test\.ya?ml$/.test(f);

describe('shipped configurations', () => {
  const files = all.filter((f) => !isTestFile(f));
  it('there are some', () => expect(files.length).toBeGreaterThanOrEqual(6));
  for (const file of files) {
    it(`${file.slice(root.length + 1)} validates`, async () => {
      const config = await loadAndValidate(file, { env: {} });
      expect(Object.keys(config.agents).length).toBeGreaterThan(0);
    });
  }
});

describe('shipped test files', () => {
  const tests = all.filter(isTestFile);
  it('there is one beside the processing pipeline', () => expect(tests.map((f) => f.slice(root.length + 1))).toContain('conf/fintrans-processing.test.yaml'));
  for (const file of tests) {
    it(`${file.slice(root.length + 1)} passes`, async () => {
      let out = '';
      const code = await runTests({ conf: file.replace(/\.test(\.ya?ml)$/, '$1'), out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream });
      expect(out).not.toMatch(/^FAIL/m);
      expect(code).toBe(0);
    });
  }
});

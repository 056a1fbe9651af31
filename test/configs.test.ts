/**
 * Every configuration shipped in conf/ and examples/ validates (drift test: a renamed key breaks the build).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAndValidate } from '../agent/run.ts';

const root = resolve(import.meta.dirname, '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

describe('shipped configurations', () => {
  const files = [...yamlFiles(join(root, 'conf')), ...yamlFiles(join(root, 'examples'))];
  it('there are some', () => expect(files.length).toBeGreaterThanOrEqual(4));
  for (const file of files) {
    it(`${file.slice(root.length + 1)} validates`, async () => {
      const config = await loadAndValidate(file, { env: {} });
      expect(Object.keys(config.agents).length).toBeGreaterThan(0);
    });
  }
});

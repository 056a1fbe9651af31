import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from './config/ajv.ts';
import { componentSchema } from './config/schemas.ts';
import { currentReference, readmeReference } from './docs.ts';
import { PluginRegistry } from './registry.ts';
import type { JsonSchema } from './types.ts';

describe('docs drift', () => {
  it('README.md carries the plugin reference generated from the current schemas (run `npm run docs`)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(currentReference(readme)).toBe(await readmeReference(new PluginRegistry()));
  });

  it('every plugin documents every key and its schema compiles with the framework keys added', async () => {
    for (const def of await new PluginRegistry().all()) {
      const schema = componentSchema(def.kind, def.schema);
      expect(() => compile(schema), `${def.kind}/${def.type}`).not.toThrow();
      expect(def.description.length, `${def.type} description`).toBeGreaterThan(10);
      for (const [key, prop] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
        expect(typeof prop.description === 'string' && prop.description.length > 5, `${def.kind}/${def.type}.${key} has a description`).toBe(true);
      }
    }
  });
});

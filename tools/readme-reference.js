// Regenerates the plugin reference section of README.md from the plugins' schemas: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { readmeReference, spliceReference } from '../dist/agent/docs.js';
import { PluginRegistry } from '../dist/agent/registry.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
writeFileSync(file, spliceReference(readme, await readmeReference(new PluginRegistry())));
console.log('README.md plugin reference updated.');

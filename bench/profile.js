// Hot spots of a V8 .cpuprofile (written by `node --cpu-prof`): self time per function and per file.
// `node bench/profile.js FILE.cpuprofile` prints them; `npm run bench -- S1 --profile` calls it for each scenario.
import { readFileSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).href;

export function hotSpots(file, top = 15) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // samples[i] was taken in node samples[i] and lasted timeDeltas[i + 1] (the delta before the next sample).
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i];
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url ? url.replace(ROOT, '').replace('file://', '') : '';
    const fn = `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const f = where || `(${functionName || 'native'})`;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const rank = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, pct: (100 * us) / total, ms: us / 1000 }));
  return { totalMs: total / 1000, functions: rank(fns), files: rank(files) };
}

export function summarizeProfile(file) {
  const h = hotSpots(file);
  const lines = [`profile ${file} (${Math.round(h.totalMs)} ms sampled)`, '  self time by function:'];
  for (const f of h.functions) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`);
  lines.push('  self time by file:');
  for (const f of h.files.slice(0, 10)) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) for (const f of process.argv.slice(2)) console.log(summarizeProfile(f));

// bench/results/latest.json and latest.md. A partial run (`npm run bench -- S3`) replaces only its scenarios and
// keeps the others from the previous file, each with its own date, so a re-run of one row does not lose the rest.
// `node bench/report.js` renders latest.md again from latest.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS = new URL('./results/', import.meta.url).pathname;
const ORDER = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6a', 'S6b', 'S7'];

export function writeResults(header, scenarios) {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, 'latest.json');
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).scenarios ?? [] : [];
  const fresh = new Set(scenarios.map((s) => s.id));
  const all = [...previous.filter((s) => !fresh.has(s.id)), ...scenarios].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
  const doc = { ...header, scenarios: all };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'latest.md'), markdown(doc));
  return doc;
}

const STANDARD = new Set(['seconds', 'eventsPerSec', 'mbPerSec', 'cpuSecPerMillion', 'peakRssMb', 'p50AgeMs', 'p99AgeMs']);
const n = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const d = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const range = (s, k) => (s && Number.isFinite(s[k]) ? `${n(s[k])} (${n(s[`${k}Min`])}–${n(s[`${k}Max`])})` : '–');
const ages = (s) => (s && Number.isFinite(s.p99AgeMs) ? `${n(s.p50AgeMs)} / ${n(s.p99AgeMs)}` : '–');

function row(who, s) {
  if (!s) return '';
  return `| ${who} | ${range(s, 'eventsPerSec')} | ${d(s.mbPerSec, 1)} | ${d(s.cpuSecPerMillion)} | ${n(s.peakRssMb)} | ${ages(s)} |\n`;
}

export function markdown(doc) {
  let md = `# fintrans-agent benchmarks\n\nLast run ${doc.date} on ${doc.machine}.\n${doc.conditions ? `\n${doc.conditions}\n` : ''}\n`;
  md += '| id | pipeline | events | fintrans events/s | reference | reference events/s | ratio | goal | met |\n|---|---|---|---|---|---|---|---|---|\n';
  for (const s of doc.scenarios) {
    if (s.skipped) {
      md += `| ${s.id} | ${s.name} | – | skipped | | | | ${s.goal ?? ''} | – |\n`;
      continue;
    }
    md += `| ${s.id} | ${s.name} | ${n(s.events)} | ${n(s.fintrans?.eventsPerSec)} | ${s.reference?.name ?? 'none'} | ${n(s.reference?.eventsPerSec)} | ${Number.isFinite(s.ratio) ? `${d(s.ratio)}×` : '–'} | ${s.goal ?? ''} | ${s.met ?? '–'} |\n`;
  }
  for (const s of doc.scenarios) {
    md += `\n## ${s.id}: ${s.name}\n\n`;
    if (s.skipped) {
      md += `**Skipped:** ${s.skipped}\n`;
      continue;
    }
    md += `${n(s.events)} events, ${s.fintrans?.runs?.length ?? 0} run${s.fintrans?.runs?.length === 1 ? '' : 's'}${s.reference?.runs ? ' each' : ''}${s.reference?.runs ? ', interleaved with the reference' : ''}; run ${s.date}${s.loadAverage ? ` (1-minute load average ${s.loadAverage.join(' at its start, ')} at its end)` : ''}. Median (min–max).\n\n`;
    md += '| system | events/s | MB/s | CPU s per 1M events | peak RSS MB | event age p50 / p99 ms |\n|---|---|---|---|---|---|\n';
    md += row('fintrans-agent', s.fintrans);
    md += row(s.reference?.name ?? '', s.reference?.runs ? s.reference : null);
    if (s.reference && !s.reference.runs) md += `\nReference figure: ${n(s.reference.eventsPerSec)} events/s (${s.reference.name}).\n`;
    for (const [who, sum] of [['fintrans-agent', s.fintrans], [s.reference?.name, s.reference]]) {
      const extra = Object.entries(sum ?? {}).filter(([k, v]) => typeof v === 'number' && !STANDARD.has(k) && !/M(in|ax)$/.test(k));
      if (extra.length) md += `\nAlso measured (${who}, median): ${extra.map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}.\n`;
    }
    for (const note of s.notes ?? []) md += `\n${note}\n`;
    for (const e of s.errors ?? []) md += `\n- failed: ${e}\n`;
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(RESULTS, 'latest.md'), markdown(JSON.parse(readFileSync(join(RESULTS, 'latest.json'), 'utf8'))));
}

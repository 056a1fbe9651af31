/**
 * `fintrans-agent replay --conf rules.yaml --input 'history/*.jsonl'`: back-tests a config's processors on stored
 * JSON-lines files and prints the hits per rule and the events per channel. Files are streamed in batches and the
 * output is counted, not kept, so a month of history replays in bounded memory. Lines that are not JSON are counted
 * as dead letters with reason "not-json", as the spooldir source would.
 */
import { createReadStream } from 'node:fs';
import { glob } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentError, ErrorCodes } from '../errors.ts';
import { Event } from '../event.ts';
import { silentLogger } from '../log.ts';
import { DL_HEADERS } from '../runtime/dead-letters.ts';
import { loadAndValidate, pickAgent } from '../run.ts';
import { OfflinePipeline } from './pipeline.ts';

export interface ReplayOptions {
  conf: string;
  name?: string;
  source?: string;
  inputs: string[];
  json?: boolean;
  out: NodeJS.WritableStream;
  cwd?: string;
  batchSize?: number;
}

export interface ReplayReport {
  files: number;
  events: number;
  hits: Record<string, number>;
  channels: Record<string, number>;
  deadLetters: Record<string, number>;
}

async function inputFiles(patterns: string[], cwd: string): Promise<string[]> {
  const files = new Set<string>();
  for (const pattern of patterns) {
    for await (const f of glob(pattern, { cwd })) files.add(isAbsolute(f) ? f : resolve(cwd, f));
  }
  if (files.size === 0) throw new AgentError(ErrorCodes.USAGE, `--input ${patterns.map((p) => `'${p}'`).join(' ')} matched no file (relative to ${cwd}). Quote the pattern so the shell does not expand it.`);
  return [...files].sort();
}

function tally(report: ReplayReport, outputs: Map<string, Event[]>, deadLetterChannel: string): void {
  for (const [channel, events] of outputs) {
    report.channels[channel] = (report.channels[channel] ?? 0) + events.length;
    for (const e of events) {
      if (channel === deadLetterChannel) {
        const reason = e.headers[DL_HEADERS.reason] ?? 'unknown';
        report.deadLetters[reason] = (report.deadLetters[reason] ?? 0) + 1;
        continue;
      }
      const ruleId = e.field('ruleId');
      if (typeof ruleId === 'string') report.hits[ruleId] = (report.hits[ruleId] ?? 0) + 1;
    }
  }
}

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const config = await loadAndValidate(o.conf, { cwd: o.cwd });
  const agent = config.agents[pickAgent(config, o.name)]!;
  const files = await inputFiles(o.inputs, o.cwd ?? process.cwd());
  const report: ReplayReport = { files: files.length, events: 0, hits: {}, channels: {}, deadLetters: {} };
  const pipeline = await OfflinePipeline.create(agent, config.dir, silentLogger());
  const entry = { source: o.source ?? pipeline.defaultSource() };
  const batchSize = o.batchSize ?? 1000;
  for (const file of files) {
    let batch: Event[] = [];
    const flush = async () => {
      if (batch.length) await pipeline.feed(entry, batch);
      batch = [];
      tally(report, pipeline.drain(), pipeline.deadLetterChannel);
    };
    let first = true;
    for await (let line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (first && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      first = false;
      if (line.trim() === '') continue;
      report.events++;
      let data: unknown;
      try {
        data = JSON.parse(line);
      } catch {
        report.deadLetters['not-json'] = (report.deadLetters['not-json'] ?? 0) + 1;
        continue;
      }
      batch.push(new Event({ file }, line, data));
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  }
  await pipeline.stop();
  tally(report, pipeline.drain(), pipeline.deadLetterChannel);
  o.out.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : render(report, agent.name));
  return report;
}

function render(r: ReplayReport, agent: string): string {
  const rows = (title: string, m: Record<string, number>) => {
    const entries = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (entries.length === 0) return `${title}: none\n`;
    const width = Math.max(title.length, ...entries.map(([k]) => k.length));
    return `${title.padEnd(width)}  count\n${entries.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
  };
  return `Replayed ${r.events} events from ${r.files} file${r.files === 1 ? '' : 's'} through agent "${agent}".\n\n` +
    `${rows('rule', r.hits)}\n${rows('channel', r.channels)}\n${rows('dead letters', r.deadLetters)}`;
}

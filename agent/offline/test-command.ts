/**
 * `fintrans-agent test --conf pipeline.yaml [--tests FILE]`: runs the cases of a test file against the config's
 * real processors (no source, channel, sink or server is started), prints a diff for every failed expectation and
 * exits 1 when any case fails. Each case starts from fresh processor state.
 */
import { Event } from '../event.ts';
import { errorMessage } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { loadAndValidate, pickAgent } from '../run.ts';
import { bodyOf, check } from './match.ts';
import { OfflinePipeline } from './pipeline.ts';
import { defaultTestFile, loadTestFile, type TestCase } from './test-file.ts';

export interface TestOptions {
  conf: string;
  name?: string;
  tests?: string;
  out: NodeJS.WritableStream;
}

/** An input event: a JSON object (with optional $headers) enters as its JSON text, as a source would read it. */
export function inputEvent(value: unknown): Event {
  if (typeof value === 'string') return Event.fromText(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && '$headers' in value) {
    const { $headers, ...body } = value as { $headers: Record<string, unknown> };
    return Event.fromText(JSON.stringify(body), Object.fromEntries(Object.entries($headers).map(([k, v]) => [k, String(v)])));
  }
  return Event.fromText(JSON.stringify(value));
}

function clock(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`tick ${JSON.stringify(value)} is neither an ISO-8601 date-time nor epoch milliseconds`);
  return ms;
}

/** An event as a test would expect it: headers (when it has any) under $headers, then the body. */
function show(e: Event): string {
  const body = bodyOf(e);
  const headers = Object.keys(e.headers).length ? e.headers : undefined;
  if (!headers) return JSON.stringify(body);
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? JSON.stringify({ $headers: headers, ...body }) : JSON.stringify({ $headers: headers, body });
}

async function runCase(pipeline: OfflinePipeline, t: TestCase): Promise<string[]> {
  const entry = t.source !== undefined ? { source: t.source } : { processor: t.processor! };
  await pipeline.feed(entry, t.input.map(inputEvent));
  if (t.tick !== undefined) await pipeline.tick(clock(t.tick));
  if (t.stop) await pipeline.stop();
  const channels = new Set([...pipeline.agent.channels.map((c) => c.name), pipeline.deadLetterChannel]);
  const failures: string[] = [];
  for (const [target, expectation] of Object.entries(t.expect)) {
    if (target !== 'passed' && !channels.has(target)) {
      failures.push(`${target}: no such channel; expect one of ${[...channels, 'passed'].join(', ')}`);
      continue;
    }
    const actual = target === 'passed' ? pipeline.passed : (pipeline.outputs.get(target) ?? []);
    const problems = check(actual, expectation);
    if (problems.length === 0) continue;
    for (const p of problems) failures.push(`${target}: ${p}`);
    const shown = actual.slice(0, 5).map((e) => `      ${show(e)}`);
    failures.push(`${target} got ${actual.length} event${actual.length === 1 ? '' : 's'}${actual.length ? ':' : ''}`, ...shown);
    if (actual.length > 5) failures.push(`      … ${actual.length - 5} more`);
  }
  return failures;
}

export async function runTests(o: TestOptions): Promise<number> {
  const config = await loadAndValidate(o.conf);
  const testFile = loadTestFile(o.tests ?? defaultTestFile(config.file));
  const defaultAgent = o.name ?? testFile.agent;
  let failed = 0;
  for (const [i, t] of testFile.tests.entries()) {
    let failures: string[];
    try {
      const agent = config.agents[pickAgent(config, t.agent ?? defaultAgent)]!;
      failures = await runCase(await OfflinePipeline.create(agent, config.dir, silentLogger()), t);
    } catch (error) {
      failures = [`error: ${errorMessage(error)}`];
    }
    const at = testFile.positions[i]?.line ? ` (${testFile.file}:${testFile.positions[i]!.line})` : '';
    if (failures.length === 0) {
      o.out.write(`ok   ${t.name}\n`);
    } else {
      failed++;
      o.out.write(`FAIL ${t.name}${at}\n${failures.map((f) => `    ${f}`).join('\n')}\n`);
    }
  }
  const total = testFile.tests.length;
  o.out.write(`\n${total - failed} passed, ${failed} failed (${testFile.file})\n`);
  return failed === 0 ? 0 : 1;
}

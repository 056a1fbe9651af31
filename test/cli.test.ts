/**
 * The real command, as users run it: the compiled bin in a child process (npm test builds dist/ first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, readLines, tally, tempDir, waitFor, writeSpoolFile } from './helpers/pipeline.ts';

const BIN = resolve(import.meta.dirname, '..', 'bin', 'fintrans-agent.js');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});

function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? resolve(import.meta.dirname, '..'), env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 60_000 });
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

describe('fintrans-agent CLI', () => {
  it('validates the shipped default config, found through the package conf/ folder from any directory', () => {
    const r = cli(['validate', '--conf', 'default.yaml'], { cwd: tempDir() });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^OK .*default\.yaml: agent "agent": 2 sources, 4 processors, 6 channels, 6 sinks\./);
    expect(r.status).toBe(0);
  });

  it('exits 2 on a bad config with every problem located, and no stack trace', () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, 'bad.yaml'), 'agents:\n  a:\n    channels:\n      c: { type: memory, capacity: -1 }\n    sinks:\n      s: { type: file_rol, channel: c }\n');
    const r = cli(['validate', '--conf', join(dir, 'bad.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:4:\d+ agents\.a\.channels\.c\.capacity: must be >= 1/);
    expect(r.stderr).toMatch(/bad\.yaml:6:\d+ agents\.a\.sinks\.s\.type: unknown sink type "file_rol"; did you mean "file_roll"\?/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on usage errors: no --conf, a missing file, an unknown agent name, an unknown command', () => {
    expect(cli(['run']).status).toBe(2);
    const missing = cli(['run', '--conf', 'nope.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/FTA_CONFIG_NOT_FOUND: Configuration file "nope\.yaml" not found/);
    const name = cli(['validate', '--conf', 'conf/default.yaml', '--name', 'other']);
    expect(name.status).toBe(2);
    expect(name.stderr).toMatch(/No agent named "other".*Agents defined: agent/);
    expect(cli(['frobnicate']).status).toBe(2);
  });

  it('lists plugins and prints a JSON Schema for editors', () => {
    const list = cli(['plugins']);
    expect(list.status).toBe(0);
    for (const t of ['spooldir', 'generator', 'memory', 'file_roll', 'logger', 'null', 'json-schema', 'filter']) expect(list.stdout).toContain(t);
    const schema = JSON.parse(cli(['plugins', '--json-schema', 'sink/file_roll']).stdout);
    expect(schema.properties.directory.description).toBeTruthy();
    expect(schema.required).toContain('channel');
  });

  it('runs the default pipeline, serves metrics, health and status, and stops cleanly on SIGTERM with exit 0', async () => {
    const out = tempDir();
    dirs.push(out);
    const port = freePort();
    const child = spawn(process.execPath, [BIN, '--conf', 'conf/default.yaml'], {
      cwd: resolve(import.meta.dirname, '..'),
      env: { ...process.env, FTA_OUT_DIR: out, FTA_METRICS_PORT: String(port), FTA_RATE: '0', FTA_COUNT: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor('metrics endpoint', async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok ?? false);
    await waitFor('5000 events drained', async () => {
      const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, Record<string, string>>;
      return Number(status['SINK.files']?.EventDrainSuccessCount) >= 5000;
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/fintrans_source_events_received_total\{agent="agent",component="transactions",kind="source",type="generator"\} 5000/);
    expect(metrics).toMatch(/fintrans_channel_capacity\{agent="agent",component="to_files",kind="channel",type="memory"\} 100000/);
    expect(metrics).toMatch(/fintrans_component_event_age_seconds_bucket\{.*component="files".*le="\+Inf"\} 5000/);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, Record<string, string>>;
    expect(status['CHANNEL.to_files']).toMatchObject({ Type: 'CHANNEL', ChannelCapacity: '100000' });
    expect(status['SOURCE.transactions'].EventAcceptedCount).toBe('5000');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = readLines(out);
    expect(lines).toHaveLength(5000);
    expect(tally(lines.map((l) => JSON.parse(l).transactionId)).size).toBe(5000);
    expect(logs).toMatch(/"msg":"Agent stopped\."/);
  });

  it('exits 1 on a fatal runtime error (the metrics port is taken), with a clear message and no stack trace', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // The config is valid: only the running process can find the port taken, so this is a runtime error, not exit 2.
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as AddressInfo).port;
    try {
      writeFileSync(join(dir, 'agent.yaml'), `metrics: { port: ${port} }\nagents:\n  a:\n    sources:\n      s: { type: generator, count: 10, channels: [c] }\n    channels:\n      c: { type: memory }\n    sinks:\n      k: { type: null, channel: c }\n`);
      expect(cli(['validate', '--conf', join(dir, 'agent.yaml')]).status).toBe(0);
      const child = spawn(process.execPath, [BIN, '--conf', join(dir, 'agent.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^Fatal: The metrics endpoint cannot listen on 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE.*\\).*metrics\\.port`));
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('reports an unreadable spool file, keeps running, and reads it once its permissions are fixed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    chmodSync(dir, 0o777);
    const spool = join(dir, 'spool');
    mkdirSync(spool);
    writeSpoolFile(spool, 'open.jsonl', 0, 10);
    writeSpoolFile(spool, 'locked.jsonl', 10, 10);
    writeFileSync(join(dir, 'agent.yaml'), `metrics: { enabled: false }\nagents:\n  a:\n    sources:\n      s: { type: spooldir, spoolDir: ./spool, fileStableMs: 50, pollDelay: 50, channels: [c] }\n    channels:\n      c: { type: memory }\n    sinks:\n      k: { type: file_roll, channel: c, directory: ./out, rollInterval: 0 }\n`);
    // Root reads files whatever their mode, so the agent runs as an unprivileged user when the tests run as root.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (asUser.uid !== undefined) for (const p of [dir, spool, join(spool, 'open.jsonl'), join(spool, 'locked.jsonl'), join(dir, 'agent.yaml')]) chownSync(p, 65534, 65534);
    chmodSync(join(spool, 'locked.jsonl'), 0);
    const child = spawn(process.execPath, [BIN, '--conf', join(dir, 'agent.yaml')], { ...asUser, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor('the unreadable file reported', () => /locked\.jsonl/.test(logs) && /EACCES|permission/i.test(logs));
    await waitFor('the readable file delivered', () => readLines(join(dir, 'out'), true).length >= 10);
    chmodSync(join(spool, 'locked.jsonl'), 0o644);
    await waitFor('the fixed file delivered', () => readLines(join(dir, 'out'), true).length >= 20);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readLines(join(dir, 'out'))).toHaveLength(20);
  });
  it('test runs the cases beside a config (exit 0), and exits 1 with a diff when one fails', () => {
    const ok = cli(['test', '--conf', 'fintrans-processing.yaml'], { cwd: tempDir() });
    expect(ok.stdout).toMatch(/^ok {3}seed 004's laundering detector/m);
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(ok.status).toBe(0);
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, 'wrong.test.yaml'), 'agent: processing\ntests:\n  - name: expects too little\n    source: transactions\n    input: [ { transactionId: x } ]\n    expect: { dlq: [] }\n');
    const failed = cli(['test', '--conf', 'fintrans-processing.yaml', '--tests', join(dir, 'wrong.test.yaml')]);
    expect(failed.stdout).toMatch(/FAIL expects too little \(.*wrong\.test\.yaml:3\)/);
    expect(failed.stdout).toMatch(/dlq: expected exactly 0 events, got 1/);
    expect(failed.status).toBe(1);
  });

  it('replay back-tests the fraud rules on stored files and prints the hits per rule', () => {
    const dir = tempDir();
    dirs.push(dir);
    const tx = (id: number, amount: number) => JSON.stringify({ transactionId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, userId: `user_${id}`, amount, transactionTime: 1700000000 + id, merchantId: 'merchant_1', transactionType: 'purchase', location: 'location_1', paymentMethod: 'paypal', isInternational: false, currency: 'USD' });
    writeFileSync(join(dir, 'day1.jsonl'), `${[tx(1, 20000), tx(2, 10), tx(3, 30000)].join('\n')}\n`);
    writeFileSync(join(dir, 'day2.jsonl'), `${tx(4, 15000)}\nnot json\n`);
    const r = cli(['replay', '--conf', 'fintrans-processing.yaml', '--name', 'processing', '--input', join(dir, '*.jsonl'), '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ files: 2, events: 5, hits: { 'big-ticket': 3 }, deadLetters: { 'not-json': 1 } });
  });
  it('a SIGTERM right after start, while the CLI is still loading, still stops gracefully with exit 0', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // A preload that says when Node starts running JavaScript: the signal then lands while the CLI's modules load.
    const preload = `data:text/javascript,process.stderr.write('js-started\\n')`;
    const child = spawn(process.execPath, ['--import', preload, BIN, '--conf', 'default.yaml'], { cwd: dir, env: { ...process.env, FTA_OUT_DIR: join(dir, 'out'), FTA_METRICS_PORT: String(freePort()) }, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((r) => child.stderr!.on('data', (d) => String(d).includes('js-started') && r()));
    await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    expect(signal).toBe(null);
    expect(code).toBe(0);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDirectory } from './lock.ts';

const children: ChildProcess[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill('SIGKILL')));

/** Another process (a real one, not this test's pid) taking the lock as a second agent would. */
async function holdInChild(dir: string): Promise<ChildProcess> {
  const lock = new URL('./lock.ts', import.meta.url).href;
  const code = `const { lockDirectory } = await import(${JSON.stringify(lock)});
lockDirectory(${JSON.stringify(dir)}, 'file channel "other"');
process.stdout.write('locked\\n');
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('locked\n');
  return child;
}

describe('file channel directory lock across processes', () => {
  it('refuses a directory a live process holds, naming it, and takes it over once that process is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fta-lock-'));
    try {
      const child = await holdInChild(dir);
      expect(JSON.parse(readFileSync(join(dir, '.fintrans.lock'), 'utf8'))).toMatchObject({ pid: child.pid });
      expect(() => lockDirectory(dir, 'file channel "fc"')).toThrow(
        expect.objectContaining({ code: 'FTA_DIRECTORY_LOCKED', message: expect.stringContaining(`file channel "other" (pid ${child.pid})`) }),
      );
      child.kill('SIGKILL'); // its lock file stays behind, as after a crash
      await once(child, 'exit');
      const release = lockDirectory(dir, 'file channel "fc"');
      expect(JSON.parse(readFileSync(join(dir, '.fintrans.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
      release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { testContext } from '../../../agent/testing/context.ts';
import { StateStore } from './state-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fta-agg-state-'));
  dirs.push(d);
  return d;
}

describe('StateStore', () => {
  test('is named after agent and component, and saves atomically into a directory it creates', () => {
    const root = dir();
    const store = new StateStore(join(root, 'nested', 'state'), 'pay ments', 'per/merchant', testContext('processor', 'aggregate').log);
    expect(store.file).toBe(join(root, 'nested', 'state', 'pay_ments.per_merchant.aggregate.json'));
    store.save({ a: 1 });
    store.save({ a: 2 });
    expect(readdirSync(join(root, 'nested', 'state'))).toEqual(['pay_ments.per_merchant.aggregate.json']); // no temp left
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toEqual({ a: 2 });
  });

  test('take hands over the state once: the file is removed so a later start cannot count it again', () => {
    const store = new StateStore(dir(), 'a', 'agg', testContext('processor', 'aggregate').log);
    expect(store.take((j) => j)).toEqual({ missing: true });
    store.save({ windows: [1, 2] });
    expect(store.take((j) => j)).toEqual({ state: { windows: [1, 2] } });
    expect(existsSync(store.file)).toBe(false);
    expect(store.take((j) => j)).toEqual({ missing: true });
  });

  test('a corrupt or refused file is moved aside to .corrupt and never throws', () => {
    const store = new StateStore(dir(), 'a', 'agg', testContext('processor', 'aggregate').log);
    writeFileSync(store.file, '{"truncated');
    const bad = store.take(() => 1);
    expect('quarantined' in bad).toBe(true);
    expect(existsSync(store.file)).toBe(false);
    expect(readFileSync(`${store.file}.corrupt`, 'utf8')).toBe('{"truncated');

    store.save({ version: 99 });
    const refused = store.take(() => {
      throw new Error('written for another configuration');
    });
    expect(refused).toEqual({ quarantined: 'written for another configuration' });
    expect(JSON.parse(readFileSync(`${store.file}.corrupt`, 'utf8'))).toEqual({ version: 99 });
  });
});

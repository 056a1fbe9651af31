import { describe, expect, it } from 'vitest';
import { compileIndexName } from './index-name.ts';
import { DEFAULT_MAPPINGS, installTemplate, isProblem, resolveTemplate, type ResolvedTemplate } from './template.ts';

const resolve = (option: Parameters<typeof resolveTemplate>[0], index = 'fintrans-%Y.%m.%d') => resolveTemplate(option, compileIndexName(index));

describe('index template', () => {
  it('is off unless asked for', () => {
    expect(resolve(undefined)).toBeUndefined();
    expect(resolve(false)).toBeUndefined();
  });

  it('derives name, pattern and priority from the index, with the transaction mapping', () => {
    const t = resolve(true) as ResolvedTemplate;
    expect(t.name).toBe('fintrans');
    expect(t.body.index_patterns).toEqual(['fintrans-*']);
    expect(t.body.priority).toBe(109);
    expect(t.body.template.mappings).toBe(DEFAULT_MAPPINGS);
    expect(t.body.template.settings).toBeUndefined();
    expect(DEFAULT_MAPPINGS.properties).toMatchObject({ transactionId: { type: 'keyword' }, amount: { type: 'double' }, transactionTime: { type: 'date', format: 'epoch_second' }, isInternational: { type: 'boolean' } });
  });

  it('gives a more specific prefix a higher priority, so overlapping templates never tie', () => {
    const logs = resolve(true, 'fintrans-logs-%Y.%m.%d') as ResolvedTemplate;
    expect(logs.name).toBe('fintrans-logs');
    expect(logs.body.priority).toBeGreaterThan((resolve(true) as ResolvedTemplate).body.priority);
    expect((resolve(true, 'fixed') as ResolvedTemplate).body.index_patterns).toEqual(['fixed']);
  });

  it('takes everything from an object', () => {
    const t = resolve({ name: 'tx', patterns: ['a-*', 'b-*'], priority: 7, mappings: { properties: { x: { type: 'keyword' } } }, settings: { number_of_replicas: 0 } }) as ResolvedTemplate;
    expect(t).toMatchObject({ name: 'tx', body: { index_patterns: ['a-*', 'b-*'], priority: 7, template: { mappings: { properties: { x: { type: 'keyword' } } }, settings: { number_of_replicas: 0 } } } });
  });

  it('needs patterns and a name when the index starts with an escape', () => {
    const t = resolve(true, '%{tenant}-tx');
    expect(isProblem(t) && t.problem).toMatch(/template.patterns is required/);
    expect(isProblem(resolve({ patterns: ['*-tx'] }, '%{tenant}-tx'))).toBe(true);
    expect(isProblem(resolve({ patterns: ['*-tx'], name: 'tx' }, '%{tenant}-tx'))).toBe(false);
  });

  it('installs with one PUT _index_template', async () => {
    const calls: unknown[] = [];
    await installTemplate({ indices: { putIndexTemplate: async (p) => void calls.push(p) } }, resolve(true) as ResolvedTemplate);
    expect(calls).toEqual([expect.objectContaining({ name: 'fintrans', index_patterns: ['fintrans-*'], template: { mappings: DEFAULT_MAPPINGS } })]);
  });
});

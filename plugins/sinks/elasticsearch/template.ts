/**
 * The index template the sink installs on start (`template: true` or an object), so every index the sink creates
 * (one a day with `fintrans-%Y.%m.%d`) gets the mapping of the transaction schema instead of a dynamic guess:
 * ids as keywords (exact match and aggregations, no full-text analysis), the amount as a double, the epoch-second
 * transaction time as a date. A template applies to indices created after it; existing indices keep their mapping.
 */
import type { IndexName } from './index-name.ts';

/** The `financial_transactions` shape (seed 000 and the generator's default schema). */
export const DEFAULT_MAPPINGS = {
  dynamic: true,
  properties: {
    transactionId: { type: 'keyword' },
    userId: { type: 'keyword' },
    // scaled_float lives in the mapper-extras module, which not every distribution ships; double always exists.
    amount: { type: 'double' },
    transactionTime: { type: 'date', format: 'epoch_second' },
    merchantId: { type: 'keyword' },
    transactionType: { type: 'keyword' },
    location: { type: 'keyword' },
    paymentMethod: { type: 'keyword' },
    isInternational: { type: 'boolean' },
    currency: { type: 'keyword' },
  },
} as const;

export interface TemplateConfig {
  name?: string;
  patterns?: string[];
  priority?: number;
  mappings?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export interface ResolvedTemplate {
  name: string;
  body: {
    index_patterns: string[];
    priority: number;
    template: { mappings: Record<string, unknown>; settings?: Record<string, unknown> };
    _meta: Record<string, unknown>;
  };
}

/**
 * The default pattern: the literal prefix of the index followed by `*` (`fintrans-%Y.%m.%d` → `fintrans-*`), or the
 * index itself when it has no escapes. Undefined when the index starts with an escape (patterns must then be given).
 */
export function defaultPattern(index: IndexName): string | undefined {
  if (index.constant !== undefined) return index.constant;
  return index.prefix ? `${index.prefix}*` : undefined;
}

/** A template name from the prefix: `fintrans-logs-` → `fintrans-logs`. */
export function defaultName(index: IndexName): string | undefined {
  const base = (index.constant ?? index.prefix).replace(/[-_.]+$/, '');
  return base ? base : undefined;
}

/**
 * The template to install, or a problem to report. The default priority grows with the length of the literal
 * prefix, so a more specific template (`fintrans-logs-*`) wins over a broader one (`fintrans-*`) and two sinks'
 * templates never tie (Elasticsearch refuses overlapping templates of equal priority).
 */
export function resolveTemplate(option: boolean | TemplateConfig | undefined, index: IndexName): ResolvedTemplate | { problem: string } | undefined {
  if (!option) return undefined;
  const t: TemplateConfig = option === true ? {} : option;
  const patterns = t.patterns ?? (defaultPattern(index) ? [defaultPattern(index)!] : undefined);
  if (!patterns || patterns.length === 0) return { problem: 'template.patterns is required when the index starts with an escape (no literal prefix to derive it from)' };
  const name = t.name ?? defaultName(index);
  if (!name) return { problem: 'template.name is required when the index has no literal prefix to derive it from' };
  const literal = patterns.reduce((n, p) => Math.max(n, p.indexOf('*') < 0 ? p.length : p.indexOf('*')), 0);
  const body: ResolvedTemplate['body'] = {
    index_patterns: patterns,
    priority: t.priority ?? 100 + literal,
    template: { mappings: t.mappings ?? DEFAULT_MAPPINGS },
    _meta: { managed_by: 'fintrans-agent' },
  };
  if (t.settings) body.template.settings = t.settings;
  return { name, body };
}

export function isProblem(t: ResolvedTemplate | { problem: string } | undefined): t is { problem: string } {
  return t !== undefined && 'problem' in t;
}

/** The part of the client the installer needs (kept narrow so tests can fake it). */
export interface TemplateClient {
  indices: { putIndexTemplate(params: { name: string } & ResolvedTemplate['body']): Promise<unknown> };
}

/** Creates or replaces the template (PUT is idempotent, so every start brings it up to date with the config). */
export async function installTemplate(client: TemplateClient, t: ResolvedTemplate): Promise<void> {
  await client.indices.putIndexTemplate({ name: t.name, ...t.body });
}

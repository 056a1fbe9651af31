/**
 * What a bulk item's status, or a whole request's failure, means for the sink:
 *
 * - `ok`: indexed (or, with opType create, already there: a 409 on a redelivered document).
 * - `retry`: transient (429 es_rejected_execution_exception, 5xx, shard unavailable): send the item again.
 * - `blocked`: fixed only by an operator (a write or read-only index block, missing privileges, a closed or missing
 *   index with auto-creation off): roll back and back off until it is cleared, never dead-letter.
 * - `reject`: this document will never be accepted (mapping and parsing errors, other 4xx): dead letters.
 *
 * For whole requests, `split` means the request was refused as a whole for something one item may cause (400,
 * 413 too large): nothing was indexed, so the batch is halved until the culprit is alone.
 */
import type { OpType } from './bulk.ts';

export type Outcome = 'ok' | 'retry' | 'blocked' | 'reject';

export interface ItemError {
  type?: string;
  reason?: string | null;
  caused_by?: ItemError;
}

/** One entry of a bulk response's `items`: `{ <opType>: { status, error? } }`. */
export type ResponseItem = Partial<Record<string, { status: number; error?: ItemError; _index?: string }>>;

/** Error types that an operator must fix; the data is fine. */
const OPERATOR_TYPES = new Set(['cluster_block_exception', 'security_exception', 'index_closed_exception', 'index_not_found_exception']);

/** Error types that are transient whatever their status says. */
const TRANSIENT_TYPES = new Set(['es_rejected_execution_exception', 'circuit_breaking_exception', 'unavailable_shards_exception', 'no_shard_available_action_exception', 'node_not_connected_exception', 'node_closed_exception', 'process_cluster_event_timeout_exception']);

export function classifyStatus(status: number, type: string | undefined, opType: OpType): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 409 && opType === 'create') return 'ok';
  if (type !== undefined && OPERATOR_TYPES.has(type)) return 'blocked';
  if (type !== undefined && TRANSIENT_TYPES.has(type)) return 'retry';
  if (status === 401 || status === 403) return 'blocked';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

export function itemResult(item: ResponseItem): { status: number; error?: ItemError; _index?: string } {
  for (const key in item) return item[key]!;
  return { status: 0, error: { type: 'empty_item', reason: 'the bulk response has an empty item' } };
}

export function classifyItem(item: ResponseItem, opType: OpType): Outcome {
  const r = itemResult(item);
  return classifyStatus(r.status, r.error?.type, opType);
}

/** "type: reason (caused by type: reason)", as short as the server's answer allows. */
export function describeError(error: ItemError | undefined): string {
  if (!error) return 'no error details';
  let text = `${error.type ?? 'error'}: ${error.reason ?? ''}`.trim();
  const cause = error.caused_by;
  if (cause && cause.reason && !error.reason?.includes(cause.reason)) text += ` (caused by ${cause.type}: ${cause.reason})`;
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

/** The operator's fix for a `blocked` outcome. */
export function operatorHint(error: ItemError | undefined, index: string | undefined): string {
  const idx = index ?? '<index>';
  const reason = error?.reason ?? '';
  switch (error?.type) {
    case 'cluster_block_exception':
      if (/read_only_allow_delete|flood.stage/i.test(reason)) return `Free disk space on the data nodes, then clear the block: PUT ${idx}/_settings {"index.blocks.read_only_allow_delete": null}.`;
      if (/read.only/i.test(reason)) return `Clear the block: PUT ${idx}/_settings {"index.blocks.read_only": null}.`;
      return `Clear the block: PUT ${idx}/_settings {"index.blocks.write": null} (or the cluster-level block named in the reason).`;
    case 'index_closed_exception':
      return `Open the index: POST ${idx}/_open.`;
    case 'index_not_found_exception':
      return `Create the index, or allow its auto-creation (action.auto_create_index).`;
    default:
      return 'Grant the credentials the privileges to write to this index (create_doc or index, and create_index for new indices).';
  }
}

export interface RequestFailure {
  outcome: 'retry' | 'blocked' | 'split';
  status: number | undefined;
  message: string;
}

/** 400 types that one bad item can cause (e.g. an `_id` too long); anything else about a 400 is configuration. */
const ITEM_CAUSED = new Set(['action_request_validation_exception', 'illegal_argument_exception', 'x_content_parse_exception', 'parsing_exception', 'json_parse_exception', 'mapper_parsing_exception', 'document_parsing_exception']);

/**
 * A whole request failed: network errors, timeouts, 429 and 5xx are transient; 401/403/404 are configuration the
 * operator must fix (retried with backoff so nothing is dead-lettered for them); 413, and a 400 that one item can
 * cause, are split; any other 400 is configuration (blocked).
 */
export function classifyRequestError(error: unknown): RequestFailure {
  const e = error as { name?: string; message?: string; meta?: { statusCode?: number; body?: unknown } };
  const status = e.meta?.statusCode;
  const body = e.meta?.body as { error?: ItemError } | undefined;
  const detail = body && typeof body === 'object' && body.error ? describeError(body.error) : (e.message ?? String(error));
  if (e.name !== 'ResponseError' || status === undefined) return { outcome: 'retry', status, message: `${e.name ?? 'Error'}: ${e.message ?? String(error)}` };
  if (status === 413 || (status === 400 && ITEM_CAUSED.has(body?.error?.type ?? ''))) return { outcome: 'split', status, message: `HTTP ${status}: ${detail}` };
  if (status === 400) return { outcome: 'blocked', status, message: `HTTP 400: ${detail}. The request itself was refused: check the client version (8.x for an 8.x server) and the sink's settings.` };
  if (status === 401 || status === 403) return { outcome: 'blocked', status, message: `HTTP ${status}: ${detail}. Check the sink's auth (apiKey or username/password) and the privileges of that user.` };
  if (status === 404) return { outcome: 'blocked', status, message: `HTTP 404: ${detail}. Check the node URLs (a path prefix or proxy in nodes?).` };
  return { outcome: 'retry', status, message: `HTTP ${status}: ${detail}` };
}

/**
 * Sends one batch of bulk items and settles every item: indexed, rejected for good (returned, for dead letters),
 * or failed transiently. Only the transiently failed items are sent again, a bounded number of times with a short
 * doubling backoff; if some still fail, or an operator must act (a write block, missing privileges), a retriable
 * error rolls the whole batch back and the runner backs off. The redelivered items that were already indexed are
 * overwritten in place when an `_id` comes from `idField` (or counted as already there with opType create);
 * without `idField` they are indexed again, so a rollback can duplicate them.
 */
import { AgentError, StoppingError } from '../../../agent/index.ts';
import { bulkBody, type BulkItem, type OpType, type Rejection } from './bulk.ts';
import { classifyItem, classifyRequestError, describeError, itemResult, operatorHint, type ResponseItem } from './classify.ts';

export interface BulkResponseLike {
  errors: boolean;
  items: ResponseItem[];
}

/** Sends one NDJSON body to `_bulk` and resolves with the parsed response; rejects as the ES client does. */
export type Send = (body: string) => Promise<BulkResponseLike>;

export interface WriteOptions {
  opType: OpType;
  /** Extra attempts for items that failed transiently, inside one write. */
  itemRetries: number;
  /** First pause before such a retry, in milliseconds; doubled each time. */
  retryBackoffMs: number;
  /** Whether items carry an `_id` (idField): then a rollback cannot duplicate what was already indexed. */
  idempotent: boolean;
  /** Bulk requests a round may have in flight at once (the batch is split); 1 = one request per round. */
  concurrency?: number;
  signal?: AbortSignal;
  onItemsRetried?: (n: number) => void;
  onAlreadyExists?: (n: number) => void;
}

interface Failed {
  item: BulkItem;
  detail: string;
}

interface Round {
  retry: Failed[];
  blocked: (Failed & { hint: string })[];
}

export async function writeItems(items: readonly BulkItem[], send: Send, o: WriteOptions): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  let pending = items;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const round: Round = { retry: [], blocked: [] };
    // Every part settles before the round is judged: a rollback while another part is still in flight would
    // let its documents land after the redelivery started.
    const settled = await Promise.allSettled(split(pending, o.concurrency ?? 1).map((part) => sendRound(part, send, o, rejected, round)));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const written = items.length - rejected.length - round.retry.length - round.blocked.length;
    const consequence = `The batch of ${items.length} is rolled back and redelivered after a backoff; ${written} of its documents are already indexed ` +
      (o.idempotent ? 'and will be overwritten in place (idField).' : 'and will be indexed again (no idField: duplicates).');
    if (round.blocked.length > 0) {
      const b = round.blocked[0]!;
      throw new AgentError('FTA_ES_BLOCKED', `Elasticsearch refuses writes to index "${b.item.index}" (${b.detail}) for ${round.blocked.length} documents: an operator must act. ${b.hint} ${consequence}`, { retriable: true });
    }
    if (round.retry.length === 0) break;
    if (attempt >= o.itemRetries) {
      throw new AgentError('FTA_ES_ITEMS_FAILED', `${round.retry.length} documents still failed transiently after ${o.itemRetries} retries (first: ${round.retry[0]!.detail}). ${consequence}`, { retriable: true });
    }
    o.onItemsRetried?.(round.retry.length);
    await pause(o.retryBackoffMs * 2 ** attempt, o.signal);
    pending = round.retry.map((f) => f.item);
  }
  return rejected;
}

/** Fewer items than this per request are not worth a request of their own. */
const MIN_PART = 100;

/**
 * Splits a round into at most `concurrency` requests. Items with an `_id` go to a part chosen by their index and
 * id, so two writes of one document in a batch stay in one request, in order (the later one wins, as it would in
 * one request); items without one are cut into contiguous runs.
 */
export function split(items: readonly BulkItem[], concurrency: number): (readonly BulkItem[])[] {
  const n = Math.min(concurrency, Math.floor(items.length / MIN_PART));
  if (n <= 1) return [items];
  if (items.some((i) => i.id !== undefined)) {
    const parts: BulkItem[][] = Array.from({ length: n }, () => []);
    for (const item of items) parts[item.id === undefined ? 0 : hash(item.index, item.id) % n]!.push(item);
    return parts.filter((p) => p.length > 0);
  }
  const size = Math.ceil(items.length / n);
  return Array.from({ length: Math.ceil(items.length / size) }, (_, k) => items.slice(k * size, (k + 1) * size));
}

/** FNV-1a over the index and id: cheap, and the same document always lands in the same part. */
function hash(index: string, id: string): number {
  let h = 0x811c9dc5;
  for (const s of [index, id]) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x2f, 0x01000193);
  }
  return h >>> 0;
}

async function sendRound(items: readonly BulkItem[], send: Send, o: WriteOptions, rejected: Rejection[], round: Round): Promise<void> {
  let response: BulkResponseLike;
  try {
    response = await send(bulkBody(items));
  } catch (error) {
    const f = classifyRequestError(error);
    if (f.outcome !== 'split') {
      const code = f.outcome === 'blocked' ? 'FTA_ES_BLOCKED' : 'FTA_ES_UNAVAILABLE';
      throw new AgentError(code, `Elasticsearch bulk request failed (${f.message}); the batch is rolled back and retried after a backoff.`, { retriable: true, cause: error });
    }
    // Refused as a whole for something one item causes (nothing was indexed): halve until the culprit is alone.
    if (items.length === 1) {
      rejected.push({ event: items[0]!.event, reason: 'rejected-by-server', detail: f.message });
      return;
    }
    const mid = items.length >> 1;
    await sendRound(items.slice(0, mid), send, o, rejected, round);
    await sendRound(items.slice(mid), send, o, rejected, round);
    return;
  }
  if (!response.errors) return;
  if (!Array.isArray(response.items) || response.items.length !== items.length) {
    throw new AgentError('FTA_ES_UNAVAILABLE', `Elasticsearch answered ${response.items?.length ?? 0} bulk items for ${items.length} sent; the batch is rolled back and retried.`, { retriable: true });
  }
  let conflicts = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const raw = response.items[i]!;
    const outcome = classifyItem(raw, o.opType);
    if (outcome === 'ok') {
      if (itemResult(raw).status === 409) conflicts++;
      continue;
    }
    const { status, error } = itemResult(raw);
    const detail = `${status} ${describeError(error)}`;
    if (outcome === 'reject') rejected.push({ event: item.event, reason: 'rejected-by-server', detail });
    else if (outcome === 'retry') round.retry.push({ item, detail });
    else round.blocked.push({ item, detail, hint: operatorHint(error, item.index) });
  }
  if (conflicts) o.onAlreadyExists?.(conflicts);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new StoppingError());
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(new StoppingError());
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../agent/errors.ts';
import { Event } from '../../../agent/event.ts';
import { buildItem, type BulkItem } from './bulk.ts';
import type { ResponseItem } from './classify.ts';
import { compileIndexName } from './index-name.ts';
import { split, writeItems, type BulkResponseLike, type WriteOptions } from './writer.ts';

const items = (n: number): BulkItem[] =>
  Array.from({ length: n }, (_, i) => buildItem(Event.fromData({ id: `d${i}` }), { index: compileIndexName('idx'), opType: 'index', idField: 'id', format: 'json', headers: [], timestampUnit: 'auto' }) as BulkItem);
const idsOf = (body: string) => body.split('\n').filter((_, i) => i % 2 === 0 && _).map((l) => (JSON.parse(l) as { index: { _id: string } }).index._id);
const ok: ResponseItem = { index: { status: 201 } };
const err = (status: number, type: string): ResponseItem => ({ index: { status, error: { type, reason: `${type} reason` } } });
const options = (o: Partial<WriteOptions> = {}): WriteOptions => ({ opType: 'index', itemRetries: 3, retryBackoffMs: 1, idempotent: true, ...o });

/** A fake _bulk: `answer(id, attempt)` gives each document's item for its n-th delivery. */
function fakeServer(answer: (id: string, attempt: number) => ResponseItem | Error) {
  const seen = new Map<string, number>();
  const requests: string[][] = [];
  const send = async (body: string): Promise<BulkResponseLike> => {
    const ids = idsOf(body);
    requests.push(ids);
    const out: ResponseItem[] = [];
    for (const id of ids) {
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const a = answer(id, n);
      if (a instanceof Error) throw a;
      out.push(a);
    }
    return { errors: out.some((i) => i.index!.status >= 300), items: out };
  };
  return { send, requests };
}

describe('bulk writer', () => {
  it('sends one request when everything is indexed', async () => {
    const s = fakeServer(() => ok);
    expect(await writeItems(items(5), s.send, options())).toEqual([]);
    expect(s.requests).toEqual([['d0', 'd1', 'd2', 'd3', 'd4']]);
  });

  it('rejects mapping errors with the server reason and resends only the transiently failed items', async () => {
    const s = fakeServer((id, n) => (id === 'd1' ? err(400, 'document_parsing_exception') : id === 'd3' && n < 3 ? err(429, 'es_rejected_execution_exception') : ok));
    let retried = 0;
    const rejected = await writeItems(items(5), s.send, options({ onItemsRetried: (n) => (retried += n) }));
    expect(rejected.map((r) => [r.event.data.id, r.reason, r.detail])).toEqual([['d1', 'rejected-by-server', '400 document_parsing_exception: document_parsing_exception reason']]);
    expect(s.requests).toEqual([['d0', 'd1', 'd2', 'd3', 'd4'], ['d3'], ['d3']]);
    expect(retried).toBe(2);
  });

  it('throws a retriable error when items still fail after the retries, saying what a rollback means', async () => {
    const s = fakeServer((id) => (id === 'd2' ? err(503, 'unavailable_shards_exception') : ok));
    const e = await writeItems(items(4), s.send, options({ itemRetries: 2 })).catch((x: unknown) => x as AgentError);
    expect(e).toBeInstanceOf(AgentError);
    expect(e).toMatchObject({ retriable: true, code: 'FTA_ES_ITEMS_FAILED' });
    expect((e as Error).message).toMatch(/1 documents still failed transiently after 2 retries.*3 of its documents are already indexed and will be overwritten in place/);
    expect(s.requests).toHaveLength(3);
    const noId = await writeItems(items(4), fakeServer((id) => (id === 'd2' ? err(503, 'x') : ok)).send, options({ itemRetries: 0, idempotent: false })).catch((x: Error) => x);
    expect((noId as Error).message).toMatch(/indexed again \(no idField: duplicates\)/);
  });

  it('does not retry a block inside the write: it rolls back at once with the operator fix', async () => {
    const s = fakeServer(() => err(403, 'cluster_block_exception'));
    const e = (await writeItems(items(3), s.send, options()).catch((x: unknown) => x)) as AgentError;
    expect(e).toMatchObject({ retriable: true, code: 'FTA_ES_BLOCKED' });
    expect(e.message).toContain('PUT idx/_settings {"index.blocks.write": null}');
    expect(s.requests).toHaveLength(1);
  });

  it('counts a 409 as already there with opType create', async () => {
    let existing = 0;
    const s = fakeServer((id) => (id === 'd0' ? { index: { status: 409, error: { type: 'version_conflict_engine_exception' } } } : ok));
    expect(await writeItems(items(2), s.send, options({ opType: 'create', onAlreadyExists: (n) => (existing += n) }))).toEqual([]);
    expect(existing).toBe(1);
  });

  it('turns a failed request into a retriable error', async () => {
    const s = fakeServer(() => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9200'), { name: 'ConnectionError' }));
    await expect(writeItems(items(2), s.send, options())).rejects.toMatchObject({ retriable: true, code: 'FTA_ES_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('halves a request refused as a whole until the item that caused it is alone', async () => {
    const bad = Object.assign(new Error('validation'), { name: 'ResponseError', meta: { statusCode: 400, body: { error: { type: 'action_request_validation_exception', reason: 'id is too long' } } } });
    const sendBad = fakeServer(() => ok);
    const send = async (body: string) => (idsOf(body).includes('d5') ? Promise.reject(bad) : sendBad.send(body));
    const rejected = await writeItems(items(8), send, options());
    expect(rejected.map((r) => [r.event.data.id, r.detail])).toEqual([['d5', 'HTTP 400: action_request_validation_exception: id is too long']]);
    expect(sendBad.requests.flat().sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd6', 'd7']);
  });

  it('stops waiting between retries when the agent stops', async () => {
    const controller = new AbortController();
    const s = fakeServer(() => err(429, 'es_rejected_execution_exception'));
    const p = writeItems(items(1), s.send, options({ retryBackoffMs: 60_000, signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    await expect(p).rejects.toMatchObject({ retriable: true, code: 'FTA_STOPPING' });
  });

  it('keeps several requests of one batch in flight and settles every item of every part', async () => {
    let inFlight = 0;
    let most = 0;
    const s = fakeServer((id, n) => (id === 'd7' ? err(400, 'document_parsing_exception') : id === 'd250' && n === 1 ? err(429, 'es_rejected_execution_exception') : ok));
    const send = async (body: string) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return s.send(body);
    };
    const rejected = await writeItems(items(400), send, options({ concurrency: 4 }));
    expect(most).toBe(4);
    expect(rejected.map((r) => r.event.data.id)).toEqual(['d7']);
    expect(s.requests.slice(0, 4).flat().sort()).toEqual(items(400).map((i) => i.id).sort());
    expect(s.requests.slice(4)).toEqual([['d250']]);
  });

  it('waits for every part before rolling a batch back when one part fails', async () => {
    let settled = 0;
    const send = async (body: string): Promise<BulkResponseLike> => {
      const ids = idsOf(body);
      if (ids.includes('d0')) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' });
      await new Promise((r) => setTimeout(r, 20));
      settled++;
      return { errors: false, items: ids.map(() => ok) };
    };
    await expect(writeItems(items(300), send, options({ concurrency: 3 }))).rejects.toMatchObject({ code: 'FTA_ES_UNAVAILABLE' });
    expect(settled).toBe(2);
  });

  it('splits by _id so that two writes of one document stay in one request, in order', () => {
    const twice = [...items(300), ...items(300)];
    const parts = split(twice, 4);
    expect(parts).toHaveLength(4);
    for (const part of parts) {
      const ids = part.map((i) => i.id!);
      for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(2);
    }
    const noIds = items(250).map((i) => ({ ...i, id: undefined }));
    expect(split(noIds, 4).map((p) => p.length)).toEqual([125, 125]);
    expect(split(items(99), 4)).toHaveLength(1);
  });

  it('refuses a response that does not match the request', async () => {
    const send = async (): Promise<BulkResponseLike> => ({ errors: true, items: [ok] });
    await expect(writeItems(items(2), send, options())).rejects.toMatchObject({ retriable: true, message: expect.stringContaining('1 bulk items for 2 sent') });
  });
});

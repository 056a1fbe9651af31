import { describe, expect, it } from 'vitest';
import { classifyItem, classifyRequestError, classifyStatus, describeError, operatorHint } from './classify.ts';

const item = (status: number, type?: string, reason = 'why') => ({ index: { status, ...(type ? { error: { type, reason } } : {}) } });
const responseError = (statusCode: number, type?: string) => Object.assign(new Error(type ?? 'x'), { name: 'ResponseError', meta: { statusCode, body: type ? { error: { type, reason: 'r' } } : undefined } });

describe('bulk item classification', () => {
  it('counts 2xx as written, and a 409 as already there only with opType create', () => {
    expect(classifyItem(item(201), 'index')).toBe('ok');
    expect(classifyItem(item(200), 'index')).toBe('ok');
    expect(classifyItem({ create: { status: 409, error: { type: 'version_conflict_engine_exception' } } }, 'create')).toBe('ok');
    expect(classifyItem(item(409, 'version_conflict_engine_exception'), 'index')).toBe('reject');
  });

  it('retries 429, 5xx and transient error types', () => {
    expect(classifyItem(item(429, 'es_rejected_execution_exception'), 'index')).toBe('retry');
    expect(classifyItem(item(503, 'unavailable_shards_exception'), 'index')).toBe('retry');
    expect(classifyItem(item(500), 'index')).toBe('retry');
    expect(classifyItem(item(429, 'circuit_breaking_exception'), 'index')).toBe('retry');
  });

  it('dead-letters mapping, parsing and other 4xx errors', () => {
    for (const t of ['mapper_parsing_exception', 'document_parsing_exception', 'illegal_argument_exception', 'strict_dynamic_mapping_exception', 'invalid_index_name_exception']) {
      expect(classifyItem(item(400, t), 'index'), t).toBe('reject');
    }
  });

  it('treats blocks, missing privileges, closed and missing indices as an operator matter, whatever the status', () => {
    expect(classifyItem(item(403, 'cluster_block_exception'), 'index')).toBe('blocked');
    expect(classifyItem(item(429, 'cluster_block_exception'), 'index')).toBe('blocked'); // flood-stage read-only-allow-delete
    expect(classifyItem(item(403, 'security_exception'), 'index')).toBe('blocked');
    expect(classifyItem(item(400, 'index_closed_exception'), 'index')).toBe('blocked');
    expect(classifyItem(item(404, 'index_not_found_exception'), 'index')).toBe('blocked');
    expect(classifyStatus(401, undefined, 'index')).toBe('blocked');
  });

  it('describes an error with its cause, and tells the operator how to clear a block', () => {
    expect(describeError({ type: 'document_parsing_exception', reason: 'failed to parse field [amount]', caused_by: { type: 'number_format_exception', reason: 'For input string: "x"' } }))
      .toBe('document_parsing_exception: failed to parse field [amount] (caused by number_format_exception: For input string: "x")');
    expect(describeError(undefined)).toBe('no error details');
    expect(operatorHint({ type: 'cluster_block_exception', reason: 'index [i] blocked by: [FORBIDDEN/8/index write (api)];' }, 'i')).toContain('PUT i/_settings {"index.blocks.write": null}');
    expect(operatorHint({ type: 'cluster_block_exception', reason: 'index [i] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];' }, 'i')).toContain('read_only_allow_delete');
    expect(operatorHint({ type: 'index_closed_exception' }, 'i')).toContain('POST i/_open');
  });
});

describe('whole-request classification', () => {
  it('retries network errors, timeouts, 429 and 5xx', () => {
    expect(classifyRequestError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' })).outcome).toBe('retry');
    expect(classifyRequestError(Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })).outcome).toBe('retry');
    expect(classifyRequestError(responseError(429, 'es_rejected_execution_exception')).outcome).toBe('retry');
    expect(classifyRequestError(responseError(503)).outcome).toBe('retry');
    expect(classifyRequestError(new Error('anything else')).outcome).toBe('retry');
  });

  it('holds (never dead-letters) on authentication, authorization, a wrong URL, or a 400 about the request itself', () => {
    expect(classifyRequestError(responseError(401, 'security_exception'))).toMatchObject({ outcome: 'blocked', message: expect.stringContaining('auth') });
    expect(classifyRequestError(responseError(403, 'security_exception')).outcome).toBe('blocked');
    expect(classifyRequestError(responseError(404)).outcome).toBe('blocked');
    expect(classifyRequestError(responseError(400, 'media_type_header_exception')).outcome).toBe('blocked');
  });

  it('splits a request refused for something one item can cause', () => {
    expect(classifyRequestError(responseError(413)).outcome).toBe('split');
    expect(classifyRequestError(responseError(400, 'action_request_validation_exception')).outcome).toBe('split');
    expect(classifyRequestError(responseError(400, 'illegal_argument_exception')).outcome).toBe('split');
  });
});

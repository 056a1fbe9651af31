/**
 * The `elasticsearch` sink: each channel batch split into `concurrentRequests` `_bulk` requests sent at once
 * (@elastic/elasticsearch 8.x, matching the 8.x servers; one request in flight left Elasticsearch idle between
 * batches while the agent built the next), with the NDJSON body built from each event's original text. The channel commits only after every
 * item is settled: indexed (or, with opType create, already there), or rejected for good with the server's reason
 * (mapping and parsing errors go to dead letters). Items that failed transiently (429, 5xx) are sent again a few
 * times inside the write; if they still fail, or an operator must act (a write block, missing privileges), the
 * batch rolls back and the runner backs off. With `idField` every document has its own `_id`, so a redelivered
 * batch overwrites in place and never duplicates.
 */
import { Client } from '@elastic/elasticsearch';
import { definePlugin, type Event, type WriteResult } from '../../agent/index.ts';
import { buildItem, isRejection, type BulkItem, type OpType, type Rejection } from './elasticsearch/bulk.ts';
import { tlsProblems } from '../shared/tls.ts';
import { authProblems, clientOptions, connectionSchema, nodeList, type ConnectionConfig } from './elasticsearch/client.ts';
import { compileIndexName, type TimestampUnit } from './elasticsearch/index-name.ts';
import { installTemplate, isProblem, resolveTemplate, type TemplateConfig } from './elasticsearch/template.ts';
import { writeItems, type BulkResponseLike } from './elasticsearch/writer.ts';

const FILTER_PATH = 'errors,items.*.status,items.*.error';

interface ElasticsearchSinkConfig extends ConnectionConfig {
  index: string;
  idField?: string;
  opType: OpType;
  batchSize: number;
  format: 'json' | 'text';
  headers: string[];
  timestampField?: string;
  timestampUnit: TimestampUnit;
  addTimestamp?: string;
  timeZone: string;
  template?: boolean | TemplateConfig;
  itemRetries: number;
  retryBackoffMs: number;
  concurrentRequests: number;
}

export default definePlugin<'sink', ElasticsearchSinkConfig>({
  kind: 'sink',
  type: 'elasticsearch',
  description: 'Indexes events into Elasticsearch 8 with _bulk requests (a batch split into concurrentRequests parts sent at once); documents the server refuses go to dead letters with its reason.',
  secrets: ['auth.apiKey', 'auth.password'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['nodes', 'index'],
    properties: {
      ...connectionSchema,
      index: { type: 'string', minLength: 1, description: 'Target index: date escapes %Y %y %m %d %H %M %S %j %s of the event time (e.g. "fintrans-%Y.%m.%d"), %{header}, %[field], %% for a literal %. Events whose name is missing or invalid go to dead letters (reason invalid-index).' },
      idField: { type: 'string', minLength: 1, description: 'Field whose value is the document _id (e.g. transactionId), so a redelivered event overwrites instead of duplicating. Events without it go to dead letters (reason missing-id). Unset: Elasticsearch assigns ids, and a rolled-back batch may index some documents twice.' },
      opType: { enum: ['index', 'create'], default: 'index', description: 'index: create or overwrite the document; create: only create it (with idField, a document that already exists, as on a redelivery, counts as written).' },
      batchSize: { type: 'integer', minimum: 1, default: 1000, description: 'Events per channel transaction; split into concurrentRequests _bulk requests.' },
      format: { enum: ['json', 'text'], default: 'json', description: 'json: the body is the document (a JSON object, sent as its original text); text: the document is {"@timestamp", "message": body} (for plain log lines).' },
      headers: { type: 'array', items: { type: 'string' }, default: [], description: 'Event headers copied into each document as fields of the same name (e.g. basename, host); a field the document already has wins.' },
      timestampField: { type: 'string', minLength: 1, description: 'Field holding the event time for the index date escapes and @timestamp (e.g. transactionTime, or time for pino logs): epoch seconds or milliseconds, or ISO-8601. Without it, or when an event lacks it: the timestamp header, else the current time.' },
      timestampUnit: { enum: ['auto', 'seconds', 'milliseconds'], default: 'auto', description: 'Unit of a numeric timestampField; auto takes values below 1e11 as seconds, others as milliseconds.' },
      addTimestamp: { type: 'string', minLength: 1, description: 'format json: field that receives the event time as ISO-8601 when the document lacks it (e.g. "@timestamp", the time field Kibana expects); spliced into the original text. format text always writes @timestamp.' },
      timeZone: { type: 'string', default: 'UTC', description: 'IANA time zone of the index date escapes (e.g. "Europe/Paris").' },
      template: {
        description: 'Create (or update) an index template on start: true for the built-in mapping of the financial_transactions schema on "<index prefix>*", or an object.',
        anyOf: [
          { type: 'boolean' },
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1, description: 'Template name. Default: the literal prefix of index without trailing -_. (e.g. "fintrans").' },
              patterns: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'Index patterns. Default: the literal prefix of index followed by * (e.g. "fintrans-*").' },
              priority: { type: 'integer', minimum: 0, description: 'Template priority. Default: 100 plus the length of the literal pattern prefix, so more specific templates win.' },
              mappings: { type: 'object', description: 'Mappings of the template. Default: the financial_transactions schema (keywords, amount double, transactionTime date epoch_second).' },
              settings: { type: 'object', description: 'Index settings, e.g. { "number_of_shards": 1, "number_of_replicas": 0 }.' },
            },
          },
        ],
      },
      itemRetries: { type: 'integer', minimum: 0, default: 3, description: 'Times the items that failed transiently (429, 5xx) are sent again inside one write before the batch is rolled back.' },
      retryBackoffMs: { type: 'integer', minimum: 1, default: 200, description: 'Milliseconds before the first such retry; doubled each time.' },
      concurrentRequests: { type: 'integer', minimum: 1, maximum: 16, default: 2, description: 'Bulk requests one batch is split into and sent at once (parts of at least 100 documents), so the server indexes while the next part travels; the batch commits only after every part is settled. Documents with the same _id stay in one part, in order. 1: one request per batch.' },
    },
  },
  lint(config) {
    const problems: { key?: string; message: string }[] = [];
    let index;
    try {
      index = compileIndexName(config.index, config.timeZone);
    } catch (error) {
      problems.push({ key: 'index', message: (error as Error).message });
    }
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: config.timeZone });
    } catch {
      problems.push({ key: 'timeZone', message: `unknown time zone "${config.timeZone}" (use an IANA name such as UTC or Europe/Paris)` });
    }
    for (const message of authProblems(config.auth)) problems.push({ key: 'auth', message });
    for (const message of tlsProblems(config.tls)) problems.push({ key: 'tls', message });
    if (config.format === 'text' && config.idField) problems.push({ key: 'idField', message: 'idField needs format json (a text event has no fields)' });
    if (config.format === 'text' && config.timestampField) problems.push({ key: 'timestampField', message: 'timestampField needs format json (a text event has no fields)' });
    if (config.format === 'text' && config.index.includes('%[')) problems.push({ key: 'index', message: '%[field] needs format json (a text event has no fields)' });
    if (config.format === 'text' && config.addTimestamp) problems.push({ key: 'addTimestamp', message: 'addTimestamp needs format json (format text always writes @timestamp)' });
    const t = index ? resolveTemplate(config.template, index) : undefined;
    if (isProblem(t)) problems.push({ key: 'template', message: t.problem });
    return problems;
  },
  create(config, ctx) {
    const index = compileIndexName(config.index, config.timeZone);
    const template = resolveTemplate(config.template, index);
    if (isProblem(template)) throw new Error(template.problem);
    const m = {
      requests: ctx.metrics.counter('bulk_requests_total', 'Bulk requests sent (including retries of failed items).'),
      retried: ctx.metrics.counter('items_retried_total', 'Bulk items sent again inside a write after a transient failure (429, 5xx).'),
      existing: ctx.metrics.counter('items_already_present_total', 'Items answered 409 with opType create: already indexed by an earlier delivery.'),
      fallbacks: ctx.metrics.counter('timestamp_fallbacks_total', 'Events whose timestampField was missing or not a time (the header or the clock was used).'),
    };
    const buildOptions = {
      index,
      opType: config.opType,
      idField: config.idField,
      format: config.format,
      headers: config.headers,
      timestampField: config.timestampField,
      timestampUnit: config.timestampUnit,
      addTimestamp: config.addTimestamp,
      onTimestampFallback: () => m.fallbacks.inc(),
    };
    // Secret and certificate files are read here, so a missing one fails the build at once, not every start retry.
    const options = clientOptions(config, ctx.configDir, `fintrans-agent/${ctx.name}`);
    let client: Client | undefined;

    const send = async (body: string): Promise<BulkResponseLike> => {
      m.requests.inc();
      // A string body goes out as it is (the client serializes only arrays of operations); filter_path trims the
      // response to the status and error of each item, all that settling them needs (less to receive and parse).
      return (await client!.bulk({ body, filter_path: FILTER_PATH } as unknown as Parameters<Client['bulk']>[0])) as unknown as BulkResponseLike;
    };

    return {
      async start() {
        client ??= new Client(options);
        if (template) {
          await installTemplate(client, template);
          ctx.log.info({ template: template.name, patterns: template.body.index_patterns, priority: template.body.priority }, 'Index template installed.');
        }
        ctx.log.info({ nodes: nodeList(config.nodes).map(redactUrl), index: config.index }, 'Elasticsearch sink ready.');
      },
      async write(events: readonly Event[]): Promise<WriteResult> {
        const items: BulkItem[] = [];
        const rejected: Rejection[] = [];
        for (const event of events) {
          const item = buildItem(event, buildOptions);
          if (isRejection(item)) rejected.push(item);
          else items.push(item);
        }
        if (items.length > 0) {
          const refused = await writeItems(items, send, {
            opType: config.opType,
            itemRetries: config.itemRetries,
            retryBackoffMs: config.retryBackoffMs,
            concurrency: config.concurrentRequests,
            idempotent: config.idField !== undefined,
            signal: ctx.signal,
            onItemsRetried: (n) => m.retried.inc(n),
            onAlreadyExists: (n) => m.existing.inc(n),
          });
          rejected.push(...refused);
        }
        return { rejected };
      },
      async stop() {
        await client?.close();
        client = undefined;
      },
    };
  },
});

/** A node URL without credentials, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) (u.username = '***'), (u.password = '');
    return u.toString();
  } catch {
    return url;
  }
}

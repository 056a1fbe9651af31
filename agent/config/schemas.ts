/**
 * The framework's own schemas: the top level, an agent (with its sink groups), and the keys the framework adds to
 * every component of a kind (`type`, `channels`, `channel`, `processors`, `selector`). A component's full schema is
 * its plugin's schema plus these, so one schema validates, fills defaults and documents each component.
 */
import type { ComponentKind, JsonSchema } from '../types.ts';
import { durationSchema } from './duration.ts';

const typeKey = { description: 'The plugin type: a built-in name, a path to a plugin module (relative to this file) or a package name.', type: ['string', 'null'] };
const names = (description: string, min = 0) => ({ type: 'array', items: { type: 'string', minLength: 1 }, minItems: min, uniqueItems: true, description });

const selectorSchema = {
  description: 'How events are routed to the source\'s channels (default: replicating to all of them).',
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['replicating', 'multiplexing'], description: 'replicating: every event to every channel; multiplexing: by a header value.' },
    optional: {
      description: 'replicating: channels written best-effort (a failure there is logged, not retried); multiplexing: a map of header value to optional channels.',
      anyOf: [names('Optional channels.'), { type: 'object', additionalProperties: names('Optional channels for this value.') }],
    },
    header: { type: 'string', description: 'multiplexing: the header whose value selects the channels.' },
    mapping: { type: 'object', additionalProperties: names('Channels for this header value.', 1), description: 'multiplexing: header value to channels.' },
    default: names('multiplexing: channels for values with no mapping.'),
  },
  additionalProperties: false,
};

export const FRAMEWORK_KEYS: Record<ComponentKind, { properties: Record<string, JsonSchema>; required: string[] }> = {
  source: {
    properties: {
      type: typeKey,
      channels: names('Channels this source writes to.', 1),
      processors: names('Processors run in order on every batch before it is put into the channels.'),
      selector: selectorSchema,
    },
    required: ['type', 'channels'],
  },
  channel: { properties: { type: typeKey }, required: ['type'] },
  sink: { properties: { type: typeKey, channel: { type: 'string', minLength: 1, description: 'The one channel this sink drains.' } }, required: ['type', 'channel'] },
  processor: { properties: { type: typeKey }, required: ['type'] },
};

/** The plugin's schema with the framework keys of its kind added. */
export function componentSchema(kind: ComponentKind, pluginSchema: JsonSchema): JsonSchema {
  const fw = FRAMEWORK_KEYS[kind];
  const props = (pluginSchema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = (pluginSchema.required as string[] | undefined) ?? [];
  return {
    ...pluginSchema,
    type: 'object',
    additionalProperties: pluginSchema.additionalProperties ?? false,
    properties: { ...fw.properties, ...props },
    required: [...new Set([...fw.required, ...required])],
  };
}

const components = (what: string) => ({
  type: 'object',
  description: `${what}, by name.`,
  propertyNames: { pattern: '^[A-Za-z0-9_.-]+$' },
  additionalProperties: { type: 'object', required: ['type'], description: `One ${what.toLowerCase()}.` },
});

/**
 * A sink group: member sinks that share one channel, where each batch goes to exactly one member (Flume's sink
 * processors). The type-specific keys have no schema defaults so a key given for the wrong type can be reported;
 * the resolver fills them.
 */
const sinkGroupSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sinks', 'processor'],
  description: 'One sink group.',
  properties: {
    sinks: names('The member sinks. They must all drain the same channel, and a sink may belong to one group only.', 1),
    processor: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      description: 'How the group picks the member that writes each batch.',
      properties: {
        type: {
          enum: ['failover', 'load_balance'],
          description: 'failover: every batch to the highest-priority live member, a failing one rests in a penalty box; load_balance: batches spread across the members.',
        },
        priority: {
          type: 'object',
          additionalProperties: { type: 'integer', description: 'The priority of this sink; higher wins.' },
          description: 'failover: sink name to priority (unique integers, higher wins). Members without one rank below, in list order.',
        },
        selector: { enum: ['round_robin', 'random'], description: 'load_balance: the order members are offered batches in (default round_robin).' },
        backoff: { type: 'boolean', description: 'load_balance: rest a failing member (exponentially, up to maxTimeOut) instead of offering it the next batch (default false).' },
        maxPenalty: durationSchema('failover: longest rest of a failing member in the penalty box, default 30 s; the rest starts at 1 s (or maxPenalty if smaller) and doubles per consecutive failure.', 's'),
        maxTimeOut: durationSchema('load_balance with backoff: longest rest of a failing member, default 30 s; the rest starts at 1 s (or maxTimeOut if smaller) and doubles per consecutive failure.', 's'),
      },
    },
  },
};

export const AGENT_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channels'],
  properties: {
    sources: components('Sources'),
    processors: components('Processors'),
    channels: components('Channels'),
    sinks: components('Sinks'),
    sinkGroups: {
      type: 'object',
      description: 'Sink groups, by name: sinks sharing one channel where each batch is written by one member (failover or load balancing).',
      propertyNames: { pattern: '^[A-Za-z0-9_.-]+$' },
      additionalProperties: sinkGroupSchema,
    },
    deadLetter: {
      type: 'object',
      additionalProperties: false,
      required: ['channel'],
      description: 'Where rejected events go. Without it they are counted, logged (rate-limited) and dropped.',
      properties: { channel: { type: 'string', description: 'The dead-letter channel; drain it with a sink like any other.' } },
    },
    shutdownTimeout: durationSchema('How long sinks may drain their channels on a graceful stop.', 's', 30),
    tickInterval: durationSchema('How often time-driven processors are given the clock (to close windows while no events arrive).', 's', 1),
  },
};

export const TOP_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['agents'],
  properties: {
    metrics: {
      type: 'object',
      additionalProperties: false,
      description: 'The HTTP endpoint serving /metrics (Prometheus), /health and /status (Flume-style JSON).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve the endpoint.' },
        host: { type: 'string', default: '127.0.0.1', description: 'Address to bind; loopback unless you need remote scraping.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9464, description: 'Port (0 picks a free one).' },
        token: { type: 'string', description: 'Bearer token required on every request when set; give it as ${ENV_VAR}.' },
      },
    },
    reload: {
      type: 'object',
      additionalProperties: false,
      description:
        'Applying changes of this file while the agent runs. A valid change restarts only the components whose configuration changed and those wired to them; ' +
        'an invalid one is logged problem by problem, sets the gauge fintrans_agent_config_reload_failed to 1 and leaves the running pipeline as it is. SIGHUP reloads too.',
      properties: {
        watch: { type: 'boolean', default: true, description: 'Watch this file and reload when its content changes (editors that replace the file, and Kubernetes ConfigMap updates, included). SIGHUP reloads whether or not this is on.' },
        debounce: durationSchema('How long the file must stay unchanged after a change before it is read, so an edit saved in several steps is read once, complete.', 'ms', 500),
      },
    },
    plugins: { type: 'array', items: { type: 'string' }, description: 'Extra plugin modules: paths relative to this file, or package names.' },
    logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', description: 'Log level.' },
    agents: { type: 'object', minProperties: 1, additionalProperties: AGENT_SCHEMA, description: 'Agents by name; --name picks one.' },
  },
};

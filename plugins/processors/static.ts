/**
 * Flume's static interceptor: one fixed header per instance (chain several for more), typically to tag events
 * with their datacenter, environment or pipeline so that selectors and sinks can route on it.
 */
import { definePlugin } from '../../agent/index.ts';

export interface StaticConfig {
  key: string;
  value: string | number | boolean;
  preserveExisting: boolean;
}

export default definePlugin<'processor', StaticConfig>({
  kind: 'processor',
  type: 'static',
  description: "Sets one fixed header on every event (Flume's static interceptor).",
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      key: {
        description: 'Header name.',
        type: 'string',
        minLength: 1,
        default: 'key',
      },
      value: {
        description: 'Header value. Numbers and booleans are written as text, since headers are strings.',
        type: ['string', 'number', 'boolean'],
        default: 'value',
      },
      preserveExisting: {
        description: 'Keep the header when the event already has it. True by default, as in Flume.',
        type: 'boolean',
        default: true,
      },
    },
    required: [],
  },
  create(config) {
    const { key, preserveExisting } = config;
    const value = String(config.value);
    return {
      process(events) {
        for (let i = 0; i < events.length; i++) {
          const headers = events[i]!.headers;
          if (preserveExisting && headers[key] !== undefined) continue;
          headers[key] = value;
        }
        return events;
      },
    };
  },
});

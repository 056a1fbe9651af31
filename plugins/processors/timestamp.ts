/**
 * Flume's timestamp interceptor: stamps each event with the agent's clock (epoch milliseconds) in a header, which
 * time-bucketing sinks and end-to-end latency checks read.
 */
import { definePlugin } from '../../agent/index.ts';

export interface TimestampConfig {
  headerName: string;
  preserveExisting: boolean;
}

export default definePlugin<'processor', TimestampConfig>({
  kind: 'processor',
  type: 'timestamp',
  description: "Sets a header to the agent's current time in epoch milliseconds (Flume's timestamp interceptor).",
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      headerName: {
        description: 'Header that receives the time, in epoch milliseconds.',
        type: 'string',
        minLength: 1,
        default: 'timestamp',
      },
      preserveExisting: {
        description: 'Keep the header when the event already has it (for example stamped by an upstream agent).',
        type: 'boolean',
        default: false,
      },
    },
    required: [],
  },
  create(config) {
    const name = config.headerName;
    const preserve = config.preserveExisting;
    return {
      process(events) {
        // One clock read per batch: the events of a batch arrived together, and Date.now() per event would cost
        // more than the rest of this loop.
        const now = String(Date.now());
        for (let i = 0; i < events.length; i++) {
          const headers = events[i]!.headers;
          if (preserve && headers[name] !== undefined) continue;
          headers[name] = now;
        }
        return events;
      },
    };
  },
});

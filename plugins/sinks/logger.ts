/**
 * The logger sink: writes each event to the agent's log at info. It exists for debugging a pipeline by eye, and
 * it is the only component that puts event data into the log, so it never belongs in a production pipeline that
 * carries card or account data.
 */
import { definePlugin, type Sink } from '../../agent/index.ts';

export interface LoggerSinkConfig {
  batchSize: number;
  maxBytesToLog: number;
}

export default definePlugin<'sink', LoggerSinkConfig>({
  kind: 'sink',
  type: 'logger',
  description:
    'Logs each event (headers and the start of its body) at info; the only sink that logs event data, so use it for debugging only.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: [],
    properties: {
      batchSize: {
        description: 'Events the runner takes from the channel per transaction.',
        type: 'integer',
        minimum: 1,
        default: 100,
      },
      maxBytesToLog: {
        description:
          'How much of each body is logged, in characters of its text (Flume counts bytes; characters never cut a ' +
          'multi-byte character in half). 0 logs the headers only.',
        type: 'integer',
        minimum: 0,
        default: 256,
      },
    },
  },
  create(config, ctx): Sink {
    const max = config.maxBytesToLog;
    return {
      async write(events) {
        for (const event of events) {
          // Slicing the text rather than the bytes keeps a truncated body valid UTF-8 in the JSON log line.
          const text = max === 0 ? '' : event.text;
          ctx.log.info({ headers: event.headers, body: text.length > max ? text.slice(0, max) : text }, 'Event.');
        }
      },
    };
  },
});

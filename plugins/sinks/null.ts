/**
 * The null sink: acknowledges every batch without writing it anywhere. It measures what the rest of a pipeline
 * costs (Flume's benchmark sink) and drains a channel on purpose.
 */
import { definePlugin, type Sink } from '../../agent/index.ts';

export interface NullSinkConfig {
  batchSize: number;
}

export default definePlugin<'sink', NullSinkConfig>({
  kind: 'sink',
  type: 'null',
  description: 'Discards every event and acknowledges at once; for benchmarks and for draining a channel on purpose.',
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
    },
  },
  create(): Sink {
    return {
      // Not even the body is touched, so a benchmark through this sink never pays for serialization.
      write: async () => undefined,
    };
  },
});

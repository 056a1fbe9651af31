// A null sink the bench can stop: while `gateFile` exists every write fails with a retriable error, as when the
// destination is down, so batches roll back and the channel fills up (S7). Loaded by path from the agent's
// configuration (`type: /abs/path/bench/plugins/gated-null.js`), through the public plugin API.
import { existsSync } from 'node:fs';
import { AgentError, definePlugin } from '../../dist/agent/index.js';

export default definePlugin({
  kind: 'sink',
  type: 'bench-gated-null',
  description: 'Discards events like the null sink, but fails every write (retriable) while gateFile exists.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['gateFile'],
    properties: {
      gateFile: { type: 'string', minLength: 1, description: 'Absolute path of the file whose existence stops the sink.' },
      batchSize: { type: 'integer', minimum: 1, default: 1000, description: 'Events the runner takes from the channel per transaction.' },
    },
  },
  create(config) {
    return {
      async write() {
        // One stat per batch: cheap next to a batch of 1,000 events.
        if (existsSync(config.gateFile)) throw new AgentError('BENCH_SINK_STOPPED', `the bench stopped this sink (${config.gateFile} exists)`, { retriable: true });
      },
    };
  },
});

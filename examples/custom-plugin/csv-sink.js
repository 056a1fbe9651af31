// A custom sink: appends the chosen fields of each event as one CSV line. Sinks are nouns. The framework calls
// write() once per batch and commits the channel only after it resolves, so resolve after the data is written.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { definePlugin } from 'fintrans-agent';

const quote = (v) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export default definePlugin({
  kind: 'sink',
  type: 'csv',
  description: 'Appends selected fields of each JSON event as a CSV line to one file.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['file', 'columns'],
    properties: {
      file: { type: 'string', description: 'The CSV file (relative paths resolve against the config file).' },
      columns: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Fields written, in order.' },
      batchSize: { type: 'integer', minimum: 1, default: 500, description: 'Events per channel transaction.' },
    },
  },
  create(config, ctx) {
    const file = resolve(ctx.configDir, config.file);
    return {
      async start() {
        await mkdir(dirname(file), { recursive: true });
      },
      async write(events) {
        const rejected = [];
        let out = '';
        for (const event of events) {
          let data;
          try {
            data = event.data;
          } catch (error) {
            rejected.push({ event, reason: 'malformed-json', detail: error.message });
            continue;
          }
          out += `${config.columns.map((c) => quote(data[c])).join(',')}\n`;
        }
        await appendFile(file, out);
        return { rejected };
      },
    };
  },
});

// A custom processor: masks the listed fields of each JSON event, e.g. account numbers before they leave the
// agent. Processors are verbs; the schema below validates the config, fills defaults and documents the plugin.
import { definePlugin } from 'fintrans-agent';

export default definePlugin({
  kind: 'processor',
  type: 'mask',
  description: 'Replaces the listed fields with a mask that keeps only their last characters.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Top-level fields to mask.' },
      keep: { type: 'integer', minimum: 0, default: 4, description: 'How many trailing characters stay visible.' },
    },
  },
  create(config) {
    const { fields, keep } = config;
    const mask = (v) => {
      const s = String(v);
      return s.length <= keep ? '*'.repeat(s.length) : '*'.repeat(s.length - keep) + s.slice(-keep);
    };
    return {
      // Work per batch; an event whose body is not JSON is rejected to dead letters, not dropped.
      process(events, ctx) {
        for (const event of events) {
          let data;
          try {
            data = event.data;
          } catch (error) {
            ctx.deadLetter(event, 'malformed-json', error.message);
            continue;
          }
          const copy = { ...data };
          for (const f of fields) if (copy[f] !== undefined && copy[f] !== null) copy[f] = mask(copy[f]);
          event.setData(copy);
        }
        return events;
      },
    };
  },
});

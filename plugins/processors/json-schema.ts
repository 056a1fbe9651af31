/**
 * Validates each event's JSON body against a JSON Schema, so malformed transactions are set aside (dead-lettered
 * with ajv's explanation) at the edge instead of failing a sink, or worse, landing in a warehouse.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as formats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { AgentError, ErrorCodes, type Event, definePlugin, errorMessage } from '../../agent/index.ts';

export interface JsonSchemaConfig {
  schema?: Record<string, unknown>;
  schemaFile?: string;
  allErrors: boolean;
}

// ajv-formats is CommonJS with an `exports.default`; under NodeNext the default import is the whole module, so
// the plugin function sits one `default` deeper than TypeScript believes (or not, depending on the loader).
type AddFormats = (ajv: Ajv) => Ajv;
const formatsModule = formats as unknown as { default: AddFormats | { default: AddFormats } };
const addFormats: AddFormats =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

function invalid(message: string, cause?: unknown): AgentError {
  return new AgentError(ErrorCodes.CONFIG_INVALID, `json-schema: ${message}`, { cause });
}

async function loadSchemaFile(file: string, configDir: string): Promise<Record<string, unknown>> {
  const path = resolve(configDir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalid(`cannot read schemaFile "${path}": ${errorMessage(error)}.`, error);
  }
  try {
    const ext = extname(path).toLowerCase();
    const value: unknown = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the document is not an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw invalid(`schemaFile "${path}" is not a JSON Schema document: ${errorMessage(error)}.`, error);
  }
}

/** An ajv instance for the schema's declared draft; schemas that declare none are read as draft 2020-12. */
function ajvFor(schema: Record<string, unknown>, allErrors: boolean): Ajv {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  // strict: false accepts the unknown keywords hand-written schemas often carry (examples, x-… annotations).
  const options = { allErrors, strict: false, allowUnionTypes: true };
  const ajv = declared.includes('draft-07') || declared.includes('draft-06')
    ? new Ajv(options)
    : declared.includes('2019-09') ? new Ajv2019(options) : new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}

export default definePlugin<'processor', JsonSchemaConfig>({
  kind: 'processor',
  type: 'json-schema',
  description: 'Validates JSON bodies against a JSON Schema; invalid or non-JSON events go to dead letters.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      schema: {
        description:
          'The JSON Schema, inline. Its $schema selects the draft (07, 2019-09 or 2020-12; 2020-12 when absent); ' +
          'formats such as date-time and email are checked. Exclusive with schemaFile.',
        type: 'object',
      },
      schemaFile: {
        description: 'Path of a JSON or YAML (.yaml, .yml) file holding the schema, relative to the configuration file. Exclusive with schema.',
        type: 'string',
        minLength: 1,
      },
      allErrors: {
        description: 'Report every violation in the dead-letter detail instead of stopping at the first (slower on invalid events).',
        type: 'boolean',
        default: false,
      },
    },
    required: [],
    oneOf: [{ required: ['schema'] }, { required: ['schemaFile'] }],
  },
  async create(config, ctx) {
    if ((config.schema === undefined) === (config.schemaFile === undefined)) throw invalid('set exactly one of schema or schemaFile.');
    // A copy: the config is frozen, and ajv must be free to annotate what it compiles.
    const schema = config.schema ? structuredClone(config.schema) : await loadSchemaFile(config.schemaFile!, ctx.configDir);
    const ajv = ajvFor(schema, config.allErrors);
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw invalid(`the schema${config.schemaFile ? ` in "${config.schemaFile}"` : ''} does not compile: ${errorMessage(error)}.`, error);
    }
    return {
      process(events, pctx) {
        // Copy only from the first rejection on: the common all-valid batch costs no allocation.
        let out: Event[] | undefined;
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          let data: unknown;
          try {
            data = event.data;
          } catch (error) {
            out ??= events.slice(0, i);
            pctx.deadLetter(event, 'malformed-json', errorMessage(error));
            continue;
          }
          if (validate(data)) {
            out?.push(event);
          } else {
            out ??= events.slice(0, i);
            pctx.deadLetter(event, 'schema-invalid', ajv.errorsText(validate.errors, { dataVar: 'body' }));
          }
        }
        return out ?? events;
      },
    };
  },
});

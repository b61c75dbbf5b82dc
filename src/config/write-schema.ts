/**
 * @module config/write-schema
 * Writes `config/gateway.schema.json` from `schema.ts` (`npm run schema`), so editors can
 * complete and check gateway.yaml via `# yaml-language-server: $schema=...`. A test fails when
 * the committed file no longer matches the schema.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GatewaySchema } from './schema';

/** Stable identifier of the published schema (config format version 1). */
export const SCHEMA_ID = 'urn:breakwater:gateway-config:v1';

/** Where the published schema lives: `config/` at the package root, from `src/` or `dist/`. */
export const SCHEMA_FILE = join(__dirname, '..', '..', 'config', 'gateway.schema.json');

/** The published JSON Schema text: draft-07 (what editors support best), pretty, newline-ended. */
export function schemaJson(): string {
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'breakwater gateway.yaml',
    ...(publishable(JSON.parse(JSON.stringify(GatewaySchema)), false) as object),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Any value that holds a `${VAR}`: the file as an editor sees it, before substitution. */
const ENV_REFERENCE = { type: 'string', pattern: '\\$\\{' };
const SCALAR_TYPES = new Set(['integer', 'number', 'boolean']);

/**
 * The validator's schema → the published one, which must load in any JSON Schema tool (ajv in
 * strict mode, editors) and accept every file `breakwater validate` accepts:
 * - the `bw-*` formats are ours alone (ajv's strict mode refuses unknown formats), so they are
 *   left out; the value's `pattern`, where it has one, still checks the shape;
 * - a value may be a `${VAR}` reference, substituted only when breakwater loads the file, so
 *   patterns, numbers, booleans and enums also accept a string holding `${`.
 * @param value whether `node` is a value of the document (a property, item or map entry).
 */
function publishable(node: unknown, value: boolean): unknown {
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [key, child] of Object.entries(node)) {
    if (key === 'format' && typeof child === 'string' && child.startsWith('bw-')) continue;
    if (key === 'properties' && isNode(child)) {
      out[key] = Object.fromEntries(Object.entries(child).map(([k, v]) => [k, publishable(v, true)]));
    } else if (key === 'items' || (key === 'additionalProperties' && isNode(child))) {
      out[key] = publishable(child, true);
    } else if (key === 'anyOf' && Array.isArray(child)) {
      out[key] = child.map((branch) => publishable(branch, false));
    } else {
      out[key] = child;
    }
  }
  if (out.type === 'string' && typeof out.pattern === 'string') out.pattern = `${out.pattern}|\\$\\{`;
  if (!value) return out;
  if (Array.isArray(out.anyOf)) {
    const anyString = (b: unknown) =>
      isNode(b) && b.type === 'string' && !('pattern' in b) && !('enum' in b) && !('const' in b);
    if (!out.anyOf.some(anyString)) out.anyOf = [...out.anyOf, ENV_REFERENCE];
    return out;
  }
  if ((typeof out.type === 'string' && SCALAR_TYPES.has(out.type)) || 'enum' in out || 'const' in out) {
    const { description, default: fallback, ...rest } = out;
    return {
      ...(description === undefined ? {} : { description }),
      ...(fallback === undefined ? {} : { default: fallback }),
      anyOf: [rest, ENV_REFERENCE],
    };
  }
  return out;
}

/** Writes the schema file and returns its path. */
export function writeSchema(file: string = SCHEMA_FILE): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, schemaJson());
  return file;
}

if (require.main === module) {
  process.stdout.write(`wrote ${writeSchema()}\n`);
}

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
    ...GatewaySchema,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
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

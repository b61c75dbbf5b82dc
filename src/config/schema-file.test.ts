import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SCHEMA_FILE, schemaJson } from './write-schema';

describe('config/gateway.schema.json', () => {
  it('is current (regenerate with `npm run schema`)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaJson());
  });

  // Editors know none of the bw-* formats; the schema must still work for them.
  const editorAjv = () => new Ajv({ strict: false, validateFormats: false, allErrors: true });

  it('checks a config the way an editor would', () => {
    const validate = editorAjv().compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    const good = parse(`version: 1
server: { listen: ":8080", limits: { maxBodySize: 1mb, headersTimeout: 5s } }
upstreams:
  users: { targets: [http://10.0.0.5:3000, { url: http://10.0.0.6:3000, weight: 2 }], failureStatuses: [502, "520-530"] }
routes:
  - { name: users, upstream: users, timeout: 5s, retry: { on: [reset, 503] } }
`) as unknown;
    expect(validate(good)).toBe(true);
    const bad = parse(`version: 1
upstreams: { users: { targets: [http://10.0.0.5:3000] } }
routes: [{ name: users, upstream: users, timout: 5s, retry: { attempts: 0, backoff: { base: 5 seconds } } }]
`) as unknown;
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath).sort()).toEqual(
      expect.arrayContaining(['/routes/0', '/routes/0/retry/attempts', '/routes/0/retry/backoff/base']),
    );
  });

  it('describes every property for editors', () => {
    const undocumented: string[] = [];
    const visit = (schema: unknown, path: string): void => {
      if (typeof schema !== 'object' || schema === null) return;
      const { properties } = schema as { properties?: Record<string, { description?: string }> };
      for (const [key, child] of Object.entries(properties ?? {})) {
        if (!child.description) undocumented.push(`${path}.${key}`);
      }
      for (const [key, child] of Object.entries(schema)) visit(child, `${path}.${key}`);
    };
    visit(JSON.parse(schemaJson()), '$');
    expect(undocumented).toEqual([]);
  });
});

import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from './load';
import { SCHEMA_FILE, schemaJson } from './write-schema';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = readdirSync(join(ROOT, 'config', 'examples'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join('config', 'examples', name));

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

  describe('in a plain strict ajv, as ajv-cli and editors load it', () => {
    // No formats added, no options relaxed: unknown formats or keywords would throw here.
    const strict = () => new Ajv({ strict: true, allErrors: true });
    const published = () => JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object;

    it('compiles', () => {
      expect(() => strict().compile(published())).not.toThrow();
    });

    it.each(['gateway.yaml', ...EXAMPLES])('accepts %s as written (${...} unexpanded)', (file) => {
      const validate = strict().compile(published());
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(() => parseConfig(text, file, {})).not.toThrow();
      expect(validate(parse(text))).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
    });

    it('accepts ${...} wherever validate does: numbers, booleans, enums, patterns', () => {
      // Block style: other YAML parsers (editors') read an unquoted ${...} in [ ] or { } as syntax.
      const text = `version: 1
server:
  listen: \${PORT:-8080}
  workers: \${WORKERS:-1}
  limits:
    maxHeaderCount: \${N:-100}
    headersTimeout: \${HT:-5s}
upstreams:
  users:
    balance: \${BALANCE:-random}
    targets:
      - url: \${URL:-http://127.0.0.1:3000}
        weight: \${W:-2}
routes:
  - name: users
    upstream: users
    websocket: \${WS:-false}
    match:
      pathPrefix: \${PREFIX:-/users}
    timeout: \${T:-5s}
`;
      expect(() => parseConfig(text, 'gateway.yaml', {})).not.toThrow();
      const validate = strict().compile(published());
      expect(validate(parse(text))).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
    });
  });
});

/**
 * Property tests (fast-check, fixed seed): the config validator only ever answers with a config
 * or a ConfigError; path normalisation never throws and never leaves a dot segment or an empty
 * segment; and no raw target that matches a prefix route leaves that prefix, before or after
 * its rewrite.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { normalizeTarget } from '../../src/routing/normalize-path';
import { compileRouter } from '../../src/routing/router';
import { compileRewrite } from '../../src/routing/rewrite';

const RUNS = { seed: 20261130, numRuns: 500 };

/** Path pieces an attacker would combine, plus arbitrary ASCII and latin1. */
const pathPiece = fc.oneof(
  fc.constantFrom(
    '/',
    '//',
    '.',
    '..',
    '...',
    '%2e',
    '%2E',
    '%2e%2e',
    '.%2e',
    '%2f',
    '%2F',
    '%5c',
    '%5C',
    '%25',
    '%',
    '%z',
    '%0',
    '%00',
    '%c0%ae',
    '\\',
    ';',
    '..;',
    '?',
    '#',
    '&',
    '=',
    ' ',
    '\t',
    '\x00',
    '\xe9',
    'p',
    'public',
    'admin',
    'a',
    'p%2F..',
    'http://h',
    'https://u@h:1',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 6 }),
  fc.string({ maxLength: 4 }),
);
const rawTarget = fc.array(pathPiece, { maxLength: 14 }).map((parts) => parts.join(''));
const slashTarget = rawTarget.map((t) => (t.startsWith('/') ? t : `/${t}`));

describe('property: normalizeTarget', () => {
  it.each(['keep', 'reject'] as const)('never throws; paths are canonical (escapedSlashes: %s)', (mode) => {
    fc.assert(
      fc.property(fc.oneof(rawTarget, slashTarget), (raw) => {
        const out = normalizeTarget(raw, mode);
        if ('error' in out) {
          expect(typeof out.error).toBe('string');
          return;
        }
        const { path, query } = out;
        expect(path.startsWith('/')).toBe(true);
        expect(path).not.toMatch(/\/\.\.?(\/|$)/);
        expect(path).not.toContain('//');
        // No `?`, `#`, backslash, control, space or non-ASCII character survives.
        expect([...path].every((c) => c > ' ' && c < '\x7f' && !'?#\\'.includes(c))).toBe(true);
        expect(path).not.toMatch(/%(2e|2E|00)/);
        if (mode === 'reject') expect(path).not.toMatch(/%(2F|5C)/i);
        expect(query === '' || query.startsWith('?')).toBe(true);
        // Idempotent: the upstream normalising again sees the same path.
        expect(normalizeTarget(path, mode)).toEqual({ path, query: '' });
      }),
      RUNS,
    );
  });
});

describe('property: routing never escapes a prefix', () => {
  const config = parseConfig(
    `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams:
  u: { targets: ["http://127.0.0.1:9"] }
routes:
  - { name: admin, match: { pathPrefix: /admin, headers: { x-key: k } }, upstream: u }
  - { name: p, match: { pathPrefix: /p }, upstream: u }
  - { name: pub, match: { pathPrefix: /public/files }, upstream: u, rewrite: { stripPrefix: /public/files, addPrefix: /srv } }
  - { name: exact, match: { path: /only }, upstream: u }
`,
    'props.yaml',
    {},
  );
  const router = compileRouter(config.routes);
  const rewrites = new Map(config.routes.map((r) => [r.name, compileRewrite(r.rewrite)]));

  it('a request matched to pathPrefix /x has a normalised path in /x, and its rewrite stays in addPrefix', () => {
    let matched = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          slashTarget,
          rawTarget,
          slashTarget.map((t) => `/p${t}`),
          slashTarget.map((t) => `/public/files${t}`),
        ),
        (raw) => {
          const out = normalizeTarget(raw, 'keep');
          if ('error' in out) return;
          const route = router.match('x', out.path, 'GET', {});
          if (!route) return;
          matched++;
          expect(route.name).not.toBe('admin');
          const prefix = route.match.pathPrefix;
          if (prefix) expect(out.path === prefix || out.path.startsWith(`${prefix}/`)).toBe(true);
          else expect(out.path).toBe(route.match.path);
          const rewritten = rewrites.get(route.name)?.(out.path);
          if (route.name === 'pub') expect(rewritten === '/srv' || rewritten!.startsWith('/srv/')).toBe(true);
        },
      ),
      RUNS,
    );
    expect(matched).toBeGreaterThan(RUNS.numRuns / 10);
  });
});

describe('property: the config validator', () => {
  const scalar = fc.oneof(
    fc.constantFrom(
      '1s',
      '10mb',
      '-1',
      '0',
      'http://127.0.0.1:1',
      '${X}',
      '${X:-}',
      '*',
      '',
      'null',
      '~',
      '<<',
    ),
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const key = fc.oneof(
    fc.constantFrom(
      'version',
      'server',
      'listen',
      'admin',
      'limits',
      'upstreams',
      'routes',
      'targets',
      'url',
      'weight',
      'match',
      'pathPrefix',
      'path',
      'host',
      'methods',
      'upstream',
      'retry',
      'attempts',
      'timeout',
      'rateLimit',
      'key',
      'limit',
      'window',
      'cache',
      'ttl',
      'fallback',
      'redis',
      'consumers',
      'tiers',
      'name',
      '__proto__',
      'constructor',
      'circuitBreaker',
      'healthCheck',
      'rewrite',
      'headers',
      'cors',
      'compression',
      'fault',
    ),
    fc.string({ maxLength: 6 }),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    ),
  }));
  const base = {
    version: 1,
    server: { listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' } },
    upstreams: { u: { targets: ['http://127.0.0.1:1'] } },
    routes: [{ name: 'r', upstream: 'u' }],
  };
  /** A valid config with one random key set at a random known place. */
  const mutated = fc
    .tuple(
      fc.constantFrom('', 'server', 'server.limits', 'upstreams.u', 'routes.0', 'routes.0.match'),
      key,
      value,
    )
    .map(([at, k, v]) => {
      const doc = structuredClone(base) as Record<string, unknown>;
      let node = doc as Record<string, unknown>;
      for (const part of at.split('.').filter(Boolean)) {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
      node[k] = v;
      return stringify(doc);
    });
  const texts = fc.oneof(
    mutated,
    value.map((v) => stringify(v)),
    fc.dictionary(key, value, { maxKeys: 6 }).map((v) => stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
      .array(
        fc.constantFrom(
          'version: 1\n',
          'routes:\n',
          '  - ',
          '{',
          '}',
          '[',
          ']',
          ': ',
          '&a ',
          '*a',
          '<<: *a\n',
          '${',
          '"',
          "'",
          '\t',
          '\n',
          '#',
        ),
        { maxLength: 20 },
      )
      .map((p) => p.join('')),
  );

  it('answers every input with a config or a ConfigError, never another throw', () => {
    let configs = 0;
    let errors = 0;
    fc.assert(
      fc.property(texts, (text) => {
        try {
          parseConfig(text, 'fuzz.yaml', { X: 'x' });
          configs++;
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          errors++;
          for (const issue of err.issues) expect(typeof issue.message).toBe('string');
        }
      }),
      RUNS,
    );
    // The generators reach both sides.
    expect(configs).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});

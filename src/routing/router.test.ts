import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig, RouteMatch } from '../config/types';
import { canonicalHost, compileRouter, describeMatch } from './router';

function route(name: string, match: Partial<RouteMatch> = {}): RouteConfig {
  return {
    name,
    match: { hosts: [], pathPrefix: undefined, path: undefined, methods: [], headers: {}, ...match },
    upstream: 'u',
    rewrite: undefined,
    hostHeader: { kind: 'preserve' },
    timeoutMs: 30_000,
    slowRequestMs: undefined,
    retry: undefined,
    circuitBreaker: undefined,
    maxConcurrent: undefined,
    fallback: undefined,
    websocket: false,
    rateLimit: [],
    slowDown: undefined,
    cache: undefined,
    securityHeaders: undefined,
    cors: undefined,
    compression: undefined,
    headers: undefined,
    fault: undefined,
    errors: 'pass',
  };
}

interface Request {
  host?: string;
  path: string;
  method?: string;
  headers?: IncomingHttpHeaders;
}

function matchName(routes: readonly RouteConfig[], req: Request): string | undefined {
  const { host = 'any.test', path, method = 'GET', headers = {} } = req;
  return compileRouter(routes).match(host, path, method, headers)?.name;
}

describe('compileRouter().match', () => {
  const users = [route('users', { pathPrefix: '/users' })];
  it.each<[string, readonly RouteConfig[], Request, string | undefined]>([
    // path prefix on whole segments
    ['prefix itself', users, { path: '/users' }, 'users'],
    ['prefix with trailing slash', users, { path: '/users/' }, 'users'],
    ['below prefix', users, { path: '/users/7/orders' }, 'users'],
    ['not a segment boundary', users, { path: '/usersX' }, undefined],
    ['shorter than prefix', users, { path: '/user' }, undefined],
    ['other path', users, { path: '/' }, undefined],
    ['config prefix with trailing slash', [route('u', { pathPrefix: '/users/' })], { path: '/users' }, 'u'],
    ['multi-segment prefix', [route('v2', { pathPrefix: '/api/v2' })], { path: '/api/v2/x' }, 'v2'],
    [
      'multi-segment prefix, boundary',
      [route('v2', { pathPrefix: '/api/v2' })],
      { path: '/api/v20' },
      undefined,
    ],
    ['prefix / matches everything', [route('all', { pathPrefix: '/' })], { path: '/anything/at/all' }, 'all'],
    ['prefix / matches root', [route('all', { pathPrefix: '/' })], { path: '/' }, 'all'],
    ['no constraint matches everything', [route('all')], { path: '/x' }, 'all'],
    // exact path
    ['exact path', [route('h', { path: '/health' })], { path: '/health' }, 'h'],
    ['exact path, trailing slash', [route('h', { path: '/health' })], { path: '/health/' }, undefined],
    ['exact path, below', [route('h', { path: '/health/x' })], { path: '/health' }, undefined],
    ['exact root', [route('root', { path: '/' })], { path: '/' }, 'root'],
    ['exact root, other path', [route('root', { path: '/' })], { path: '/x' }, undefined],
    [
      'exact path and prefix both apply',
      [route('b', { path: '/a/b', pathPrefix: '/a' })],
      { path: '/a/b' },
      'b',
    ],
    [
      'exact path and prefix both apply, prefix fails',
      [route('b', { path: '/a/b', pathPrefix: '/c' })],
      { path: '/a/b' },
      undefined,
    ],
    // methods
    ['method listed', [route('g', { methods: ['GET', 'POST'] })], { path: '/', method: 'POST' }, 'g'],
    ['method mismatch', [route('g', { methods: ['GET'] })], { path: '/', method: 'DELETE' }, undefined],
    [
      'methods are case-sensitive',
      [route('g', { methods: ['GET'] })],
      { path: '/', method: 'get' },
      undefined,
    ],
    [
      'method mismatch falls through to a later route',
      [route('read', { pathPrefix: '/users', methods: ['GET'] }), route('write', { pathPrefix: '/users' })],
      { path: '/users/1', method: 'PUT' },
      'write',
    ],
    // headers
    [
      'header equal',
      [route('t', { headers: { 'x-tenant': 'acme' } })],
      { path: '/', headers: { 'x-tenant': 'acme' } },
      't',
    ],
    [
      'header differs',
      [route('t', { headers: { 'x-tenant': 'acme' } })],
      { path: '/', headers: { 'x-tenant': 'Acme' } },
      undefined,
    ],
    ['header missing', [route('t', { headers: { 'x-tenant': 'acme' } })], { path: '/' }, undefined],
    [
      'repeated header, joined',
      [route('t', { headers: { 'x-tenant': 'acme' } })],
      { path: '/', headers: { 'x-tenant': 'other, acme' } },
      't',
    ],
    [
      'repeated header, array',
      [route('t', { headers: { 'set-cookie': 'a=1' } })],
      { path: '/', headers: { 'set-cookie': ['b=2', 'a=1'] } },
      't',
    ],
    [
      'value with a comma, whole',
      [route('t', { headers: { 'x-l': 'a, b' } })],
      { path: '/', headers: { 'x-l': 'a, b' } },
      't',
    ],
    [
      'every header must match',
      [route('t', { headers: { 'x-tenant': 'acme', 'x-env': 'prod' } })],
      { path: '/', headers: { 'x-tenant': 'acme', 'x-env': 'dev' } },
      undefined,
    ],
    // hosts
    ['exact host', [route('h', { hosts: ['api.example.com'] })], { host: 'api.example.com', path: '/' }, 'h'],
    [
      'host is case-insensitive',
      [route('h', { hosts: ['api.example.com'] })],
      { host: 'API.Example.COM', path: '/' },
      'h',
    ],
    [
      'host port ignored',
      [route('h', { hosts: ['api.example.com'] })],
      { host: 'api.example.com:8080', path: '/' },
      'h',
    ],
    [
      'host trailing dot',
      [route('h', { hosts: ['api.example.com'] })],
      { host: 'api.example.com.', path: '/' },
      'h',
    ],
    [
      'other host',
      [route('h', { hosts: ['api.example.com'] })],
      { host: 'www.example.com', path: '/' },
      undefined,
    ],
    [
      'no Host header',
      [route('h', { hosts: ['api.example.com'] })],
      { host: undefined, path: '/' },
      undefined,
    ],
    [
      'no Host header, any-host route',
      [route('h', { hosts: ['a.test'] }), route('any')],
      { host: undefined, path: '/' },
      'any',
    ],
    [
      'one of several hosts',
      [route('h', { hosts: ['a.test', 'b.test'] })],
      { host: 'b.test', path: '/' },
      'h',
    ],
    ['IPv6 literal with port', [route('v6', { hosts: ['[::1]'] })], { host: '[::1]:8080', path: '/' }, 'v6'],
    ['IPv6 literal without port', [route('v6', { hosts: ['::1'] })], { host: '[::1]', path: '/' }, 'v6'],
    [
      'IPv6 literal, other address',
      [route('v6', { hosts: ['[::1]'] })],
      { host: '[::2]:8080', path: '/' },
      undefined,
    ],
    ['IPv4 with port', [route('v4', { hosts: ['127.0.0.1'] })], { host: '127.0.0.1:80', path: '/' }, 'v4'],
    // wildcard hosts
    [
      'wildcard, one label',
      [route('w', { hosts: ['*.example.com'] })],
      { host: 'a.example.com', path: '/' },
      'w',
    ],
    [
      'wildcard, two labels',
      [route('w', { hosts: ['*.example.com'] })],
      { host: 'a.b.example.com:443', path: '/' },
      'w',
    ],
    ['wildcard, case', [route('w', { hosts: ['*.example.com'] })], { host: 'A.EXAMPLE.COM', path: '/' }, 'w'],
    [
      'wildcard, not the apex',
      [route('w', { hosts: ['*.example.com'] })],
      { host: 'example.com', path: '/' },
      undefined,
    ],
    [
      'wildcard, not a label',
      [route('w', { hosts: ['*.example.com'] })],
      { host: 'badexample.com', path: '/' },
      undefined,
    ],
    [
      'nested wildcards: the broader one, first in order',
      [route('broad', { hosts: ['*.example.com'] }), route('narrow', { hosts: ['*.b.example.com'] })],
      { host: 'a.b.example.com', path: '/' },
      'broad',
    ],
    [
      'nested wildcards: the narrower one, first in order',
      [route('narrow', { hosts: ['*.b.example.com'] }), route('broad', { hosts: ['*.example.com'] })],
      { host: 'a.b.example.com', path: '/' },
      'narrow',
    ],
    [
      'nested wildcards: narrower misses, broader matches',
      [route('narrow', { hosts: ['*.b.example.com'] }), route('broad', { hosts: ['*.example.com'] })],
      { host: 'b.example.com', path: '/' },
      'broad',
    ],
    // first match wins, in config order
    ['first of two equal routes', [route('one'), route('two')], { path: '/' }, 'one'],
    [
      'longer prefix listed after a shorter one loses',
      [route('api', { pathPrefix: '/api' }), route('v2', { pathPrefix: '/api/v2' })],
      { path: '/api/v2/x' },
      'api',
    ],
    [
      'longer prefix listed first wins',
      [route('v2', { pathPrefix: '/api/v2' }), route('api', { pathPrefix: '/api' })],
      { path: '/api/v2/x' },
      'v2',
    ],
    [
      'wildcard listed before the exact host wins',
      [route('w', { hosts: ['*.example.com'] }), route('e', { hosts: ['api.example.com'] })],
      { host: 'api.example.com', path: '/' },
      'w',
    ],
    [
      'any-host route listed before a host route wins',
      [
        route('any', { pathPrefix: '/users' }),
        route('h', { hosts: ['api.example.com'], pathPrefix: '/users' }),
      ],
      { host: 'api.example.com', path: '/users' },
      'any',
    ],
    [
      'catch-all listed before a specific segment wins',
      [route('all', { pathPrefix: '/' }), route('users', { pathPrefix: '/users' })],
      { path: '/users' },
      'all',
    ],
    [
      'catch-all after the specific routes catches the rest',
      [route('users', { pathPrefix: '/users' }), route('all', { pathPrefix: '/' })],
      { path: '/orders' },
      'all',
    ],
    ['empty table', [], { path: '/' }, undefined],
  ])('%s', (_title, routes, req, expected) => {
    expect(matchName(routes, req)).toBe(expected);
  });

  it('returns the configured route object itself', () => {
    const routes = [route('a', { pathPrefix: '/a' })];
    const router = compileRouter(routes);
    expect(router.match('h', '/a', 'GET', {})).toBe(routes[0]);
    expect(router.routes).toBe(routes);
  });
});

describe('canonicalHost', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:8080', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['::1', '::1'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(canonicalHost(raw)).toBe(expected);
  });
});

describe('describeMatch', () => {
  it.each<[Partial<RouteMatch>, string]>([
    [
      {
        hosts: ['api.example.com'],
        pathPrefix: '/users',
        methods: ['GET', 'POST'],
        headers: { 'x-tenant': 'acme' },
      },
      'host=api.example.com prefix=/users methods=GET,POST headers=x-tenant:acme',
    ],
    [{ hosts: ['a.test', '*.b.test'], path: '/health' }, 'host=a.test,*.b.test path=/health'],
    [{ headers: { 'x-a': '1', 'x-b': '2' } }, 'headers=x-a:1,x-b:2'],
    [{}, 'any'],
  ])('%j → %j', (match, expected) => {
    expect(describeMatch(route('r', match).match)).toBe(expected);
  });
});

describe('a 1,000-route table', () => {
  const random = mulberry32(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Near misses on purpose: `dl`/`dlx`, and `''` for trailing and duplicate slashes.
  const segments = ['dl', 'dlx', 'users', 'usersX', '', ...Array.from({ length: 30 }, (_, i) => `s${i}`)];
  const hosts = [
    'api.example.com',
    'www.example.com',
    'a.b.example.com',
    'example.com',
    'other.test',
    '[::1]',
  ];
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];

  const randomPath = (depth: number): string =>
    '/' + Array.from({ length: depth }, () => pick(segments)).join('/');
  const depth = (max: number): number => 1 + Math.floor(random() * max);

  const routes = Array.from({ length: 1000 }, (_, i) => {
    const r = random();
    // Paths only: a route that matches nearly everything would answer every request early.
    const prefixDepth = random() < 0.1 ? 1 : 2 + Math.floor(random() * 2);
    const pathPrefix = random() < 0.75 ? randomPath(prefixDepth).replace(/\/+$/, '') || '/x' : undefined;
    return route(`r${i}`, {
      hosts:
        r < 0.3
          ? []
          : r < 0.6
            ? [pick(hosts)]
            : r < 0.8
              ? ['*.example.com']
              : [pick(hosts), '*.b.example.com'],
      pathPrefix,
      path: pathPrefix === undefined || random() < 0.1 ? randomPath(depth(3)) : undefined,
      methods: random() < 0.5 ? [] : [pick(methods), pick(methods)],
      headers: random() < 0.1 ? { 'x-tenant': pick(['acme', 'globex']) } : {},
    });
  });

  it('gives the same answers as a linear scan on random requests (seeded)', () => {
    const router = compileRouter(routes);
    const requestHosts = [
      ...hosts,
      'API.EXAMPLE.COM:8443',
      '[::1]:8080',
      'z.a.b.example.com',
      'unknown.test',
      undefined,
    ];
    let matched = 0;
    const distinct = new Set<RouteConfig>();
    const mismatches: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const host = pick(requestHosts);
      const path = randomPath(depth(4)).replace(/\/\/+/g, '/');
      const method = pick(methods);
      const headers: IncomingHttpHeaders =
        random() < 0.3 ? { 'x-tenant': pick(['acme', 'globex', 'acme, globex']) } : {};
      const got = router.match(host, path, method, headers);
      const naiveHost = host === undefined ? undefined : naiveCanonicalHost(host);
      const want = routes.find((r) => naiveMatch(r.match, naiveHost, path, method, headers));
      if (got !== want)
        mismatches.push(
          `${host} ${method} ${path} ${JSON.stringify(headers)}: ${got?.name} != ${want?.name}`,
        );
      if (want) matched++;
      if (want) distinct.add(want);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The comparison only means something if both outcomes are common.
    expect(matched).toBeGreaterThan(1_000);
    expect(matched).toBeLessThan(9_000);
    expect(distinct.size).toBeGreaterThan(100);
  });

  it('matches within a small factor of a 1-route table (micro benchmark)', () => {
    const one = compileRouter([
      route('users', { hosts: ['api.example.com'], pathPrefix: '/users', methods: ['GET'] }),
    ]);
    const many = compileRouter(manyServices(1000));
    const headers = {};
    const time = (fn: () => unknown): number => {
      for (let i = 0; i < 50_000; i++) fn();
      const start = process.hrtime.bigint();
      for (let i = 0; i < 200_000; i++) fn();
      return Number(process.hrtime.bigint() - start) / 200_000;
    };
    const oneNs = time(() => one.match('api.example.com', '/users/7', 'GET', headers));
    const manyNs = time(() => many.match('svc7.example.com', '/svc977/items/7', 'GET', headers));
    expect(many.match('svc7.example.com', '/svc977/items/7', 'GET', headers)?.name).toBe('svc977');
    // Generous on purpose: CI machines are noisy. Typical numbers are in the module's notes.
    expect(manyNs).toBeLessThan(3 * oneNs + 200);
  });
});

/** 1,000 services spread over 10 hosts, each owning `/svcN`, plus a catch-all at the end. */
function manyServices(count: number): RouteConfig[] {
  const routes = Array.from({ length: count - 1 }, (_, i) =>
    route(`svc${i}`, {
      hosts: [`svc${i % 10}.example.com`],
      pathPrefix: `/svc${i}`,
      methods: ['GET', 'POST'],
    }),
  );
  return [...routes, route('fallback', { pathPrefix: '/' })];
}

/** The reference: the rules as DESIGN.md states them, with no index. */
function naiveMatch(
  match: RouteMatch,
  h: string | undefined,
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
): boolean {
  if (match.hosts.length > 0) {
    if (h === undefined) return false;
    const hostOk = match.hosts.some((p) =>
      p.startsWith('*.')
        ? h.endsWith(p.slice(1)) && h.length > p.length - 1
        : h === (p.startsWith('[') ? p.slice(1, -1) : p),
    );
    if (!hostOk) return false;
  }
  if (match.path !== undefined && path !== match.path) return false;
  const prefix = match.pathPrefix;
  if (prefix !== undefined && prefix !== '/' && path !== prefix && !path.startsWith(prefix + '/'))
    return false;
  if (match.methods.length > 0 && !match.methods.includes(method)) return false;
  return Object.entries(match.headers).every(([name, value]) => {
    const actual = headers[name];
    return typeof actual === 'string' && actual.split(', ').includes(value);
  });
}

function naiveCanonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('[') ? lower.replace(/^\[([^\]]*)\].*$/, '$1') : lower.replace(/:\d+$/, '');
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

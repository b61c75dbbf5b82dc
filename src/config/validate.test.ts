import { ConfigError } from '../errors';
import { parseConfig } from './load';
import { didYouMean } from './validate';

/** Every issue of a config, formatted as `breakwater validate` prints them. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'gateway.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

const BASE = `version: 1
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
`;

describe('one problem, exactly placed and worded', () => {
  it.each([
    [
      'unknown key with a suggestion',
      `${BASE}    timout: 5s\n`,
      'gateway.yaml:8:5: routes[0].timout: unknown key "timout" (did you mean "timeout"?)',
    ],
    [
      'unknown key without one',
      `${BASE}    quota: {limit: 10}\n`,
      'gateway.yaml:8:5: routes[0].quota: unknown key "quota"; allowed keys: name, match, upstream, rewrite, hostHeader, timeout, slowRequest, retry, circuitBreaker, maxConcurrent, fallback, websocket, rateLimit, slowDown, cache, securityHeaders, cors, compression, headers, fault, errors',
    ],
    [
      'wrong type',
      `${BASE}    retry:\n      attempts: three\n`,
      'gateway.yaml:9:17: routes[0].retry.attempts: expected an integer >= 1, got "three"',
    ],
    [
      'out of range',
      `${BASE}    retry:\n      attempts: 11\n`,
      'gateway.yaml:9:17: routes[0].retry.attempts: expected an integer from 1 to 10, got 11',
    ],
    [
      'bad duration',
      `${BASE}    timeout: 5 seconds\n`,
      'gateway.yaml:8:14: routes[0].timeout: expected a duration such as 250ms, 5s or 1m, got "5 seconds" (units: ms, s, m, h)',
    ],
    [
      'bare number as a duration',
      `${BASE}    timeout: 5\n`,
      'gateway.yaml:8:14: routes[0].timeout: expected a duration such as 250ms, 5s or 1m, got 5 (add a unit: 5s or 5ms)',
    ],
    [
      'bad size',
      `${BASE}server:\n  limits:\n    maxBodySize: 10 megabytes\n`,
      'gateway.yaml:10:18: server.limits.maxBodySize: expected a size such as 512kb or 10mb, got "10 megabytes" (units: b, kb, mb, gb; 1kb = 1024 bytes)',
    ],
    [
      'enum with a suggestion',
      BASE.replace('    targets:', '    balance: round-robin\n    targets:'),
      'gateway.yaml:4:14: upstreams.users.balance: expected one of round_robin, least_request, random, got "round-robin" (did you mean "round_robin"?)',
    ],
    [
      'dangling upstream',
      BASE.replace('upstream: users', 'upstream: user').replace(
        'routes:',
        '  orders:\n    targets: [http://127.0.0.1:3001]\nroutes:',
      ),
      'gateway.yaml:9:15: routes[0].upstream: unknown upstream "user"; defined upstreams: users, orders (did you mean "users"?)',
    ],
    [
      'duplicate route name',
      `${BASE}  - name: users\n    upstream: users\n`,
      'gateway.yaml:8:11: routes[1].name: duplicate route name "users"; routes[0] on line 6 already uses it',
    ],
    [
      'path and pathPrefix',
      `${BASE}    match:\n      path: /a\n      pathPrefix: /a\n`,
      'gateway.yaml:10:19: routes[0].match.pathPrefix: set either path (one exact path) or pathPrefix, not both',
    ],
    [
      'path without a leading slash',
      `${BASE}    match:\n      pathPrefix: users\n`,
      'gateway.yaml:9:19: routes[0].match.pathPrefix: expected a path starting with "/" (no query), got "users"',
    ],
    [
      'target URL with a path',
      BASE.replace('http://127.0.0.1:3000', 'http://127.0.0.1:3000/api'),
      `gateway.yaml:4:15: upstreams.users.targets[0]: expected an http:// or https:// URL such as http://10.0.0.5:3000, got "http://127.0.0.1:3000/api" (a target has no path or query; use the route's rewrite.addPrefix)`,
    ],
    [
      'weighted target with a typo',
      BASE.replace('[http://127.0.0.1:3000]', '\n      - url: http://127.0.0.1:3000\n        wieght: 2'),
      'gateway.yaml:6:9: upstreams.users.targets[0].wieght: unknown key "wieght" (did you mean "weight"?)',
    ],
    [
      'every weight 0',
      BASE.replace('[http://127.0.0.1:3000]', '[{url: "http://127.0.0.1:3000", weight: 0}]'),
      'gateway.yaml:4:14: upstreams.users.targets: expected at least one target with a weight above 0',
    ],
    [
      'bad upstream name',
      BASE.replace('  users:', '  user service:').replace('upstream: users', 'upstream: user service'),
      'gateway.yaml:3:3: upstreams["user service"]: invalid key "user service": expected a name of letters, digits, "_", "." or "-"',
    ],
    [
      'missing required key',
      BASE.replace('    upstream: users\n', ''),
      'gateway.yaml:6:5: routes[0]: missing required key "upstream"',
    ],
    [
      'empty block',
      `${BASE}server:\n`,
      'gateway.yaml:8:8: server: expected a mapping, got an empty value (give it entries, or remove the key)',
    ],
    [
      'status range',
      BASE.replace('    targets:', '    failureStatuses: 599-500\n    targets:'),
      'gateway.yaml:4:22: upstreams.users.failureStatuses: expected a status such as 503, a range such as "200-399", or a list of them, got "599-500"',
    ],
    [
      'retry condition',
      `${BASE}    retry:\n      on: [reset, 5xx]\n`,
      'gateway.yaml:9:19: routes[0].retry.on[1]: expected one of connect-failure, reset, timeout or an integer from 100 to 599, got "5xx"',
    ],
    [
      'version other than 1',
      BASE.replace('version: 1', 'version: 2'),
      'gateway.yaml:1:10: version: expected 1, got 2',
    ],
    [
      'admin listener off loopback without a token',
      `${BASE}server:\n  admin:\n    listen: 0.0.0.0:9090\n`,
      'gateway.yaml:10:13: server.admin.listen: admin listener on 0.0.0.0 is reachable from other machines; set server.admin.token (e.g. token: ${BREAKWATER_ADMIN_TOKEN}) or listen on 127.0.0.1',
    ],
    [
      'headersTimeout above requestTimeout',
      `${BASE}server:\n  limits:\n    headersTimeout: 2m\n`,
      'gateway.yaml:10:21: server.limits.headersTimeout: expected at most requestTimeout (60s by default), got 2m',
    ],
    [
      'requestTimeout below headersTimeout',
      `${BASE}server:\n  limits: {headersTimeout: 10s, requestTimeout: 5s}\n`,
      'gateway.yaml:9:49: server.limits.requestTimeout: expected at least headersTimeout (10s), got 5s',
    ],
    [
      'backoff cap below its base',
      `${BASE}    retry:\n      backoff: {base: 2s}\n`,
      'gateway.yaml:9:23: routes[0].retry.backoff.base: expected at most max (1s by default), got 2s',
    ],
    [
      'ejection cap below the first ejection',
      BASE.replace('    targets:', '    outlierDetection: {ejectFor: 1m, maxEjectFor: 30s}\n    targets:'),
      'gateway.yaml:4:51: upstreams.users.outlierDetection.maxEjectFor: expected at least ejectFor (1m), got 30s',
    ],
    [
      'route breaker on a shared upstream breaker',
      BASE.replace('    targets:', '    circuitBreaker: {scope: upstream}\n    targets:') +
        '    circuitBreaker: {window: 5s}\n',
      'gateway.yaml:9:21: routes[0].circuitBreaker: upstream "users" shares one breaker across routes (scope: upstream), so a route cannot override it; set scope: route there or remove this block',
    ],
    [
      'unset environment variable',
      BASE.replace('[http://127.0.0.1:3000]', '[${USERS_URL}]'),
      'gateway.yaml:4:15: upstreams.users.targets[0]: environment variable USERS_URL is not set (use ${USERS_URL:-default} to give a default)',
    ],
    [
      'unset environment variable in a block',
      BASE.replace('[http://127.0.0.1:3000]', '\n      - ${USERS_URL}'),
      'gateway.yaml:5:9: upstreams.users.targets[0]: environment variable USERS_URL is not set (use ${USERS_URL:-default} to give a default)',
    ],
    [
      'YAML syntax error',
      BASE.replace('  users:\n', '  users:\n   bad indent: [\n'),
      'gateway.yaml:6:1: invalid YAML: flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'duplicate YAML key',
      BASE.replace('    upstream: users\n', '    upstream: users\n    upstream: users\n'),
      'gateway.yaml:8:5: routes[0].upstream: duplicate key "upstream"; it is already set on line 7',
    ],
    [
      'a recursive alias',
      BASE.replace('  - name: users', '  - name: users\n    match: &m {methods: *m}'),
      'gateway.yaml:7:25: routes[0].match.methods: alias *m contains itself',
    ],
  ])('%s', (_kind, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });
});

it('reports every problem of a file, in line order', () => {
  const text = `version: 1
server:
  listen: 0.0.0.0:8080
  admin: {listen: ":9090"}
  workers: none
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
    healthCheck: {path: healthz, interval: 0s}
routes:
  - name: users
    upstream: user
    timout: 5s
    retry:
      attempts: three
`;
  expect(problems(text)).toEqual([
    'gateway.yaml:4:19: server.admin.listen: admin listener on 0.0.0.0 is reachable from other machines; set server.admin.token (e.g. token: ${BREAKWATER_ADMIN_TOKEN}) or listen on 127.0.0.1',
    'gateway.yaml:5:12: server.workers: expected an integer >= 1 or "auto", got "none"',
    'gateway.yaml:9:25: upstreams.users.healthCheck.path: expected a path starting with "/", got "healthz"',
    'gateway.yaml:9:44: upstreams.users.healthCheck.interval: expected a duration greater than 0 such as 5s, got 0',
    'gateway.yaml:12:15: routes[0].upstream: unknown upstream "user"; defined upstreams: users (did you mean "users"?)',
    'gateway.yaml:13:5: routes[0].timout: unknown key "timout" (did you mean "timeout"?)',
    'gateway.yaml:15:17: routes[0].retry.attempts: expected an integer >= 1, got "three"',
  ]);
});

it('checks the first of two duplicate keys as usual', () => {
  const text = BASE.replace('    upstream: users\n', '    upstream: user\n    upstream: users\n');
  expect(problems(text)).toEqual([
    'gateway.yaml:7:15: routes[0].upstream: unknown upstream "user"; defined upstreams: users (did you mean "users"?)',
    'gateway.yaml:8:5: routes[0].upstream: duplicate key "upstream"; it is already set on line 7',
  ]);
});

it('bounds alias expansion (billion laughs)', () => {
  // Nine anchors, each a list of ten aliases to the one before: 10^9 nodes once expanded.
  const names = [...'abcdefghi'];
  const lines = names.map((name, i) => {
    const item = i === 0 ? 'x' : `*${names[i - 1]}`;
    return `${name}: &${name} [${Array<string>(10).fill(item).join(', ')}]`;
  });
  const started = Date.now();
  const found = problems(lines.join('\n'));
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(found.filter((p) => p.endsWith(': the document expands to over 100000 nodes'))).toHaveLength(1);
});

it('keeps issues in a ConfigError with structured fields', () => {
  expect(() => parseConfig(BASE.replace('version: 1', 'version: 2'), 'conf/gw.yaml')).toThrow(
    expect.objectContaining({
      code: 'BW_ERR_CONFIG',
      issues: [{ file: 'conf/gw.yaml', line: 1, col: 10, path: 'version', message: 'expected 1, got 2' }],
    }),
  );
});

it('reports an empty file at the document', () => {
  expect(problems('')).toEqual([
    'gateway.yaml: expected a mapping, got an empty value (give it entries, or remove the key)',
  ]);
});

it.each([
  ['timout', ['timeout', 'retry'], 'timeout'],
  ['healthcheck', ['healthCheck'], 'healthCheck'],
  ['maxConn', ['maxConnections', 'timeout'], 'maxConnections'],
  ['zzz', ['timeout'], undefined],
])('didYouMean(%p, %p) = %p', (input, candidates, suggestion) => {
  expect(didYouMean(input, candidates)).toBe(suggestion);
});

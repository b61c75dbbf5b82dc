import { ConfigError, formatConfigIssue } from '../errors';
import { parseConfigWithWarnings } from './load';

/** What `breakwater validate` prints for a file: errors first, then warnings. */
function report(text: string): string[] {
  try {
    return parseConfigWithWarnings(text, 'gateway.yaml', {}).warnings.map(formatConfigIssue);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.issues, ...err.warnings].map(formatConfigIssue);
  }
}

const BASE = `version: 1
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
`;

/** BASE plus more routes. */
const routes = (...more: string[]) => BASE + more.join('');

describe('warnings: valid, but probably not what was meant', () => {
  it.each([
    [
      'perTryTimeout longer than the route timeout',
      `${BASE}    timeout: 2s\n    retry: { perTryTimeout: 5s }\n`,
      'gateway.yaml:9:29: routes[0].retry.perTryTimeout: warning: perTryTimeout (5s) is longer than the route timeout (2s), so it can never fire; make it shorter than the timeout, or raise the timeout',
    ],
    [
      'perTryTimeout longer than the default route timeout',
      `${BASE}    retry:\n      perTryTimeout: 1m\n`,
      'gateway.yaml:9:22: routes[0].retry.perTryTimeout: warning: perTryTimeout (1m) is longer than the route timeout (30s by default), so it can never fire; make it shorter than the timeout, or raise the timeout',
    ],
    [
      'a misspelt method in match.methods',
      `${BASE}    match: { methods: [GET, GTE] }\n`,
      'gateway.yaml:8:29: routes[0].match.methods[1]: warning: "GTE" is not a standard HTTP method (did you mean "GET"?)',
    ],
    [
      'a misspelt method in retry.methods',
      `${BASE}    retry:\n      methods: [GET, DELTE]\n`,
      'gateway.yaml:9:22: routes[0].retry.methods[1]: warning: "DELTE" is not a standard HTTP method (did you mean "DELETE"?)',
    ],
    [
      'an unknown method in a rate-limit rule',
      `${BASE}    rateLimit:\n      - { key: ip, limit: 5, window: 1m, methods: [PROPFIND] }\n`,
      'gateway.yaml:9:52: routes[0].rateLimit[0].methods[0]: warning: "PROPFIND" is not a standard HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT); fine if your clients really send it',
    ],
    [
      'a misspelt method in a single rate limit',
      `${BASE}    rateLimit: { key: ip, limit: 5, window: 1m, methods: [POTS] }\n`,
      'gateway.yaml:8:59: routes[0].rateLimit.methods[0]: warning: "POTS" is not a standard HTTP method (did you mean "POST"?)',
    ],
    [
      'a shared limit no route names',
      `${BASE}    rateLimit: { shared: global }\nsharedLimits:\n  global: { key: ip, limit: 100, window: 1m }\n  writes: { key: ip, limit: 10, window: 1m }\n`,
      'gateway.yaml:11:3: sharedLimits.writes: warning: shared limit "writes" is not used: no route names it (rateLimit: { shared: writes }), so it limits nothing; reference it from a route or remove it',
    ],
    [
      'a misspelt method in a shared limit',
      `${BASE}    rateLimit: [{ shared: writes }]\nsharedLimits:\n  writes: { key: ip, limit: 10, window: 1m, methods: [POST, PTACH] }\n`,
      'gateway.yaml:10:61: sharedLimits.writes.methods[1]: warning: "PTACH" is not a standard HTTP method (did you mean "PATCH"?)',
    ],
    [
      'a route after a catch-all',
      routes('  - name: api\n    upstream: users\n    match: { pathPrefix: /api }\n'),
      'gateway.yaml:8:5: routes[1]: warning: route "api" can never match: route "users" (routes[0] on line 6) comes first and takes every request it would; move it above that route or narrow the earlier match',
    ],
    [
      'a route after a pathPrefix / with no other constraint',
      BASE.replace('    upstream: users\n', '    upstream: users\n    match: { pathPrefix: / }\n') +
        '  - name: api\n    upstream: users\n    match: { host: api.example.com, methods: [GET] }\n',
      'gateway.yaml:9:5: routes[1]: warning: route "api" can never match: route "users" (routes[0] on line 6) comes first and takes every request it would; move it above that route or narrow the earlier match',
    ],
    [
      'a longer prefix after a shorter one',
      BASE.replace('    upstream: users\n', '    upstream: users\n    match: { pathPrefix: /api/ }\n') +
        '  - name: v2\n    upstream: users\n    match: { pathPrefix: /api/v2, methods: [POST] }\n',
      'gateway.yaml:9:5: routes[1]: warning: route "v2" can never match: route "users" (routes[0] on line 6) comes first and takes every request it would; move it above that route or narrow the earlier match',
    ],
    [
      'an exact path under an earlier prefix on the same host and headers',
      BASE.replace(
        '    upstream: users\n',
        '    upstream: users\n    match: { host: "*.example.com", pathPrefix: /api, headers: { x-tenant: acme } }\n',
      ) +
        '  - name: health\n    upstream: users\n    match: { host: a.example.com, path: /api/health, headers: { X-Tenant: acme, x-env: prod } }\n',
      'gateway.yaml:9:5: routes[1]: warning: route "health" can never match: route "users" (routes[0] on line 6) comes first and takes every request it would; move it above that route or narrow the earlier match',
    ],
    [
      'a stripPrefix outside the pathPrefix',
      `${BASE}    match: { pathPrefix: /api }\n    rewrite: { stripPrefix: /v1 }\n`,
      'gateway.yaml:9:29: routes[0].rewrite.stripPrefix: warning: stripPrefix "/v1" is never stripped: every path it matches starts with "/api" (match.pathPrefix); the path goes upstream unchanged',
    ],
    [
      'a stripPrefix that only shares characters, not segments',
      `${BASE}    match: { pathPrefix: /users }\n    rewrite: { stripPrefix: /user }\n`,
      'gateway.yaml:9:29: routes[0].rewrite.stripPrefix: warning: stripPrefix "/user" is never stripped: every path it matches starts with "/users" (match.pathPrefix); the path goes upstream unchanged',
    ],
    [
      'a stripPrefix outside an exact path',
      `${BASE}    match: { path: /status }\n    rewrite: { stripPrefix: /api }\n`,
      'gateway.yaml:9:29: routes[0].rewrite.stripPrefix: warning: stripPrefix "/api" is never stripped: its only path is "/status" (match.path); the path goes upstream unchanged',
    ],
  ])('%s', (_name, text, expected) => {
    expect(report(text)).toEqual([expected]);
  });
});

describe('errors: a config that cannot work', () => {
  it.each([
    [
      'proxy and admin listeners on one host:port',
      'server:\n  listen: 127.0.0.1:8080\n  admin: { listen: 127.0.0.1:8080 }\n',
      'gateway.yaml:4:20: server.admin.listen: the proxy listener (server.listen, line 3) already uses 127.0.0.1:8080; the admin listener needs another port',
    ],
    [
      'an admin listener inside a wildcard proxy listener',
      'server:\n  listen: 9000\n  admin: { listen: "127.0.0.1:9000" }\n',
      'gateway.yaml:4:20: server.admin.listen: the proxy listener (server.listen, line 3) already takes 0.0.0.0:9000; the admin listener needs another port',
    ],
    [
      'a proxy listener on the default admin address',
      'server:\n  listen: 127.0.0.1:9090\n',
      'gateway.yaml:3:11: server.listen: the admin listener (127.0.0.1:9090 by default) already uses this port; give one of them another port',
    ],
    [
      'the same target twice',
      'upstreams:\n  users:\n    targets:\n      - http://127.0.0.1:3000\n      - { url: "http://127.0.0.1:3000/", weight: 2 }\n',
      'gateway.yaml:6:16: upstreams.users.targets[1].url: duplicate target http://127.0.0.1:3000; targets[0] on line 5 is the same; to send it more traffic, give that one a higher weight',
    ],
  ])('%s', (_name, settings, expected) => {
    const text = BASE.replace('upstreams:\n  users:\n    targets: [http://127.0.0.1:3000]\n', '');
    const [server, upstream] = settings.startsWith('server')
      ? [settings, 'upstreams:\n  users:\n    targets: [http://127.0.0.1:3000]\n']
      : ['', settings];
    expect(report(text.replace('version: 1\n', `version: 1\n${server}${upstream}`))).toEqual([expected]);
  });

  it('prints the warnings of a file with errors too, after them', () => {
    const text = `${BASE}    timout: 5s\n    match: { methods: [GTE] }\n`;
    expect(report(text)).toEqual([
      'gateway.yaml:8:5: routes[0].timout: unknown key "timout" (did you mean "timeout"?)',
      'gateway.yaml:9:24: routes[0].match.methods[0]: warning: "GTE" is not a standard HTTP method (did you mean "GET"?)',
    ]);
  });
});

describe('no warning where the config does what it says', () => {
  it.each([
    [
      'perTryTimeout × attempts beyond the timeout',
      `${BASE}    timeout: 2s\n    retry: { attempts: 5, perTryTimeout: 1s }\n`,
    ],
    ['perTryTimeout equal to the timeout', `${BASE}    timeout: 2s\n    retry: { perTryTimeout: 2s }\n`],
    ['standard methods in any case', `${BASE}    match: { methods: [get, HEAD, Patch, CONNECT, TRACE] }\n`],
    ['two listeners on port 0', 'server: { listen: "127.0.0.1:0", admin: { listen: "127.0.0.1:0" } }\n'],
    [
      'one port on two addresses',
      'server: { listen: "127.0.0.2:8080", admin: { listen: "127.0.0.1:8080" } }\n',
    ],
    [
      'one port on IPv4 and IPv6 loopback',
      'server: { listen: "0.0.0.0:8080", admin: { listen: "[::1]:8080" } }\n',
    ],
    [
      'a stripPrefix equal to the pathPrefix',
      `${BASE}    match: { pathPrefix: /api/ }\n    rewrite: { stripPrefix: /api }\n`,
    ],
    [
      'a stripPrefix above the pathPrefix',
      `${BASE}    match: { pathPrefix: /api/v1 }\n    rewrite: { stripPrefix: /api }\n`,
    ],
    [
      'a stripPrefix below the pathPrefix',
      `${BASE}    match: { pathPrefix: /api }\n    rewrite: { stripPrefix: /api/v1 }\n`,
    ],
    ['a stripPrefix with no path match', `${BASE}    rewrite: { stripPrefix: /api }\n`],
    [
      'shared limits each named by some route',
      BASE.replace(
        '    upstream: users\n',
        '    upstream: users\n    match: { pathPrefix: /a }\n    rateLimit: { shared: a }\n',
      ) +
        '  - name: b\n    upstream: users\n    rateLimit:\n      - { shared: a }\n      - { shared: b, methods: [POST] }\nsharedLimits:\n  a: { key: ip, limit: 100, window: 1m }\n  b: { key: ip, limit: 10, window: 1m, methods: [GET] }\n',
    ],
    [
      'the same target on two upstreams',
      BASE.replace('routes:', '  other:\n    targets: [http://127.0.0.1:3000]\nroutes:'),
    ],
    [
      'one host, two ports',
      BASE.replace('[http://127.0.0.1:3000]', '[http://127.0.0.1:3000, http://127.0.0.1:3001]'),
    ],
  ])('%s', (_name, text) => {
    const config = text.startsWith('server') ? BASE.replace('version: 1\n', `version: 1\n${text}`) : text;
    expect(report(config)).toEqual([]);
  });

  const first = (match: string) =>
    BASE.replace('    upstream: users\n', `    upstream: users\n    match: ${match}\n`);
  const second = (match: string) => `  - name: later\n    upstream: users\n    match: ${match}\n`;

  it.each([
    ['a narrower route first', '{ pathPrefix: /api/v2 }', '{ pathPrefix: /api }'],
    ['a prefix that only shares characters', '{ pathPrefix: /api }', '{ pathPrefix: /apix }'],
    ['an earlier exact path', '{ path: /api }', '{ pathPrefix: /api }'],
    ['an earlier route with a method the later lacks', '{ methods: [GET] }', '{ methods: [GET, POST] }'],
    ['an earlier route with a header', '{ headers: { x-tenant: acme } }', '{ pathPrefix: /api }'],
    ['another header value', '{ headers: { x-tenant: acme } }', '{ headers: { x-tenant: other } }'],
    ['an earlier host', '{ host: api.example.com }', '{ pathPrefix: /api }'],
    ['a wildcard that does not take the bare domain', '{ host: "*.example.com" }', '{ host: example.com }'],
    [
      'a host list with one host outside',
      '{ host: a.example.com }',
      '{ host: [a.example.com, b.example.com] }',
    ],
  ])('%s', (_name, earlier, later) => {
    expect(report(first(earlier) + second(later))).toEqual([]);
  });
});

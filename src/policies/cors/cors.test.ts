import type { IncomingHttpHeaders } from 'node:http';
import { parseConfig } from '../../config/load';
import { ConfigError } from '../../errors';
import type { Exchange } from '../../pipeline/exchange';
import type { ReplyHeaders } from '../../pipeline/stage';
import { normalizeCors } from './config';
import { CorsPolicy, preflightMethod } from './index';
import { OriginMatcher } from './origins';

describe('OriginMatcher', () => {
  const matcher = new OriginMatcher([
    'https://app.example.com',
    'https://*.example.com',
    'http://*.local.test:8080',
  ]);

  it.each([
    ['https://app.example.com', true],
    ['https://a.example.com', true],
    ['https://a.b.example.com', true],
    ['https://example.com', false],
    ['http://a.example.com', false],
    ['https://a.example.com:8443', false],
    ['https://a.example.com.evil.test', false],
    ['https://evil.test/.example.com', false],
    ['https://.example.com', false],
    ['https://a..example.com', false],
    ['https://a:b@x.example.com', false],
    ['http://dev.local.test:8080', true],
    ['http://dev.local.test', false],
    ['null', false],
  ])('%s → %s', (origin, allowed) => {
    expect(matcher.matches(origin)).toBe(allowed);
  });

  it('lets * allow anything', () => {
    expect(new OriginMatcher(['*']).matches('https://whatever.test')).toBe(true);
  });
});

/** A plain stand-in for the few Exchange fields a preflight reads (no HTTP involved). */
function exchange(headers: IncomingHttpHeaders): Exchange {
  return {
    req: { method: 'OPTIONS', headers, complete: true },
    reqId: 'req-1',
    reason: '',
    hasBody: false,
  } as unknown as Exchange;
}

const config = (extra: Partial<Parameters<typeof normalizeCors>[0] & object> = {}) =>
  normalizeCors({ origins: ['https://app.example.com', 'https://*.example.com'], ...extra })!;

describe('CorsPolicy.preflight', () => {
  const asks = { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' };

  it('answers an allowed origin with the lists, reflecting the asked headers by default', () => {
    const policy = new CorsPolicy(config({ credentials: true, maxAge: '10m' }));
    const ex = exchange({ ...asks, 'access-control-request-headers': 'content-type, x-trace' });
    const reply = policy.preflight(ex, asks.origin);
    expect(reply.status).toBe(204);
    expect(reply.source).toBe('gateway');
    expect(reply.headers).toEqual({
      'x-request-id': 'req-1',
      vary: 'Origin, Access-Control-Request-Headers',
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, PUT, PATCH, POST, DELETE',
      'access-control-allow-headers': 'content-type, x-trace',
      'access-control-max-age': '600',
    });
    expect(ex.reason).toBe('cors_preflight');
  });

  it('states configured headers instead of reflecting', () => {
    const policy = new CorsPolicy(config({ headers: ['Content-Type'], methods: ['get', 'post'] }));
    const reply = policy.preflight(
      exchange({ ...asks, 'access-control-request-headers': 'x-evil' }),
      asks.origin,
    );
    expect(reply.headers['access-control-allow-headers']).toBe('content-type');
    expect(reply.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(reply.headers.vary).toBe('Origin');
  });

  it('answers a disallowed origin with no CORS headers at all', () => {
    const policy = new CorsPolicy(config());
    const reply = policy.preflight(exchange({ ...asks, origin: 'https://evil.test' }), 'https://evil.test');
    expect(reply.status).toBe(204);
    expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('only treats OPTIONS with Origin and Access-Control-Request-Method as a preflight', () => {
    expect(preflightMethod('OPTIONS', asks)).toBe('PUT');
    expect(preflightMethod('OPTIONS', { origin: asks.origin })).toBeUndefined();
    expect(preflightMethod('OPTIONS', { 'access-control-request-method': 'PUT' })).toBeUndefined();
    expect(preflightMethod('GET', asks)).toBeUndefined();
  });
});

describe('CorsPolicy.decorate', () => {
  it('echoes an allowed origin, merges Vary, exposes headers, owns the CORS headers', () => {
    const policy = new CorsPolicy(
      config({ credentials: true, exposeHeaders: ['X-Request-Id', 'RateLimit-Remaining'] }),
    );
    const headers: ReplyHeaders = { vary: 'Accept-Encoding', 'access-control-allow-origin': '*' };
    policy.decorate(headers, 'https://a.example.com');
    expect(headers).toEqual({
      vary: 'Accept-Encoding, Origin',
      'access-control-allow-origin': 'https://a.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, ratelimit-remaining',
    });
  });

  it('gives a disallowed origin (or none) no CORS headers, only Vary: Origin', () => {
    const policy = new CorsPolicy(config());
    for (const origin of ['https://evil.test', undefined]) {
      const headers: ReplyHeaders = { 'access-control-allow-origin': '*', vary: 'origin' };
      policy.decorate(headers, origin);
      expect(headers).toEqual({ vary: 'origin' });
    }
  });

  it('answers * for any origin without credentials, and needs no Vary then', () => {
    const policy = new CorsPolicy(normalizeCors({ origins: ['*'] })!);
    const headers: ReplyHeaders = { 'access-control-allow-credentials': 'true' };
    policy.decorate(headers, 'https://any.test');
    expect(headers).toEqual({ 'access-control-allow-origin': '*' });
  });
});

describe('config', () => {
  const problems = (cors: string, server = ''): string[] => {
    try {
      parseConfig(
        `version: 1\n${server}upstreams:\n  u: { targets: [http://127.0.0.1:1] }\nroutes:\n  - name: r\n    upstream: u\n    cors: ${cors}\n`,
        'gateway.yaml',
        {},
      );
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.message.split('\n');
      throw err;
    }
  };

  it.each([
    [
      '{ origins: ["*"], credentials: true }',
      'gateway.yaml:7:23: routes[0].cors.origins[0]: origin "*" cannot be used with credentials: true (browsers refuse it); list the origins instead',
    ],
    [
      '{ origins: [app.example.com] }',
      'gateway.yaml:7:23: routes[0].cors.origins[0]: expected an origin such as https://app.example.com or https://*.example.com, or *, got "app.example.com"',
    ],
    [
      '{ origin: [https://a.test] }',
      'gateway.yaml:7:13: routes[0].cors.origin: unknown key "origin" (did you mean "origins"?)',
    ],
  ])('%s', (cors, message) => {
    expect(problems(cors)).toContain(message);
  });

  it('accepts false on a route to turn a server default off', () => {
    expect(problems('false', 'server:\n  cors: { origins: ["*"] }\n')).toEqual([]);
  });
});

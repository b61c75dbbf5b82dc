import { parseConfig } from '../../config/load';
import type { ReplyHeaders } from '../../pipeline/stage';
import { normalizeSecurityHeaders } from './config';
import { forwardedHttps, isHttpsProto, SecurityHeaders } from './index';

const DEFAULTS = normalizeSecurityHeaders(true)!;

describe('normalizeSecurityHeaders', () => {
  it('turns true into the documented defaults', () => {
    expect(DEFAULTS).toEqual({
      headers: {
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      },
      hsts: 'max-age=31536000; includeSubDomains',
      remove: ['server', 'x-powered-by'],
    });
  });

  it('tunes or turns off each header', () => {
    expect(
      normalizeSecurityHeaders({
        hsts: { maxAge: 600, includeSubDomains: false, preload: true },
        frameOptions: 'SAMEORIGIN',
        referrerPolicy: false,
        contentTypeOptions: false,
        remove: ['Via'],
      }),
    ).toEqual({
      headers: { 'x-frame-options': 'SAMEORIGIN' },
      hsts: 'max-age=600; preload',
      remove: ['via'],
    });
    expect(normalizeSecurityHeaders({ hsts: false })?.hsts).toBeUndefined();
  });

  it.each([
    ['absent everywhere', undefined, undefined, false],
    ['server default only', undefined, true, true],
    ['route true', true, undefined, true],
    ['route false beats the server default', false, true, false],
    ['route block beats the server default', { frameOptions: 'SAMEORIGIN' as const }, true, true],
  ])('%s', (_name, own, server, on) => {
    expect(normalizeSecurityHeaders(own, server) !== undefined).toBe(on);
  });
});

describe('SecurityHeaders.apply', () => {
  const policy = new SecurityHeaders(DEFAULTS);

  it('adds what is missing, keeps what the upstream set, strips banners', () => {
    const headers: ReplyHeaders = {
      'x-frame-options': 'SAMEORIGIN',
      server: 'nginx/1.25',
      'x-powered-by': 'Express',
      'content-type': 'text/html',
    };
    policy.apply(headers, false);
    expect(headers).toEqual({
      'x-frame-options': 'SAMEORIGIN',
      'content-type': 'text/html',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  });

  it('sends HSTS only over https, and never replaces the upstream one', () => {
    const plain: ReplyHeaders = {};
    policy.apply(plain, false);
    expect(plain['strict-transport-security']).toBeUndefined();
    const secure: ReplyHeaders = {};
    policy.apply(secure, true);
    expect(secure['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const upstreamSet: ReplyHeaders = { 'strict-transport-security': 'max-age=60' };
    policy.apply(upstreamSet, true);
    expect(upstreamSet['strict-transport-security']).toBe('max-age=60');
  });
});

describe('https detection', () => {
  it.each([
    ['https', true],
    ['HTTPS', true],
    [' https', true],
    ['https, http', true],
    ['http, https', false],
    ['http', false],
    ['httpsx', false],
    ['', false],
  ])('X-Forwarded-Proto %j → %s', (value, expected) => {
    expect(isHttpsProto(value)).toBe(expected);
  });

  it('reads the X-Forwarded-Proto the upstream is sent', () => {
    const list = [
      'accept',
      '*/*',
      'x-forwarded-for',
      '1.2.3.4',
      'x-forwarded-proto',
      'https',
      'x-request-id',
      'r',
    ];
    expect(forwardedHttps(list)).toBe(true);
    expect(forwardedHttps(['x-forwarded-proto', 'http', 'x-request-id', 'r'])).toBe(false);
    expect(forwardedHttps([])).toBe(false);
  });
});

describe('config', () => {
  const yaml = (route: string) => `version: 1
server:
  securityHeaders: { frameOptions: SAMEORIGIN }
upstreams:
  u: { targets: [http://127.0.0.1:1] }
routes:
  - name: r
    upstream: u
${route}`;

  it('folds the server default into routes; a route block or false replaces it', () => {
    const config = parseConfig(
      `${yaml('')}  - { name: own, upstream: u, securityHeaders: true }\n  - { name: off, upstream: u, securityHeaders: false }\n`,
      'gateway.yaml',
      {},
    );
    const [inherited, own, off] = config.routes;
    expect(inherited!.securityHeaders?.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(own!.securityHeaders?.headers['x-frame-options']).toBe('DENY');
    expect(off!.securityHeaders).toBeUndefined();
    expect(config.server.securityHeaders?.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('names a bad value exactly', () => {
    expect(() =>
      parseConfig(yaml('    securityHeaders: { frameOptions: ALLOW }\n'), 'gateway.yaml', {}),
    ).toThrow(/routes\[0\]\.securityHeaders\.frameOptions: expected one of DENY, SAMEORIGIN or false/);
  });
});

import { ConfigError } from '../../errors';
import { parseConfig } from '../../config/load';
import type { Reply } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';
import { isMaskable, maskedReply } from '.';

const CONFIG = `version: 1
server:
  errors: mask
upstreams:
  u: { targets: [http://127.0.0.1:1] }
routes:
  - name: inherits
    upstream: u
  - name: passes
    upstream: u
    errors: pass
`;

describe('errors option', () => {
  it('is every route’s default under server: and a route may override it', () => {
    const config = parseConfig(CONFIG, 'gateway.yaml', {});
    expect(config.server.errors).toBe('mask');
    expect(config.routes.map((r) => r.errors)).toEqual(['mask', 'pass']);
  });

  it('defaults to pass', () => {
    const config = parseConfig(CONFIG.replace('server:\n  errors: mask\n', ''), 'gateway.yaml', {});
    expect(config.routes.map((r) => r.errors)).toEqual(['pass', 'pass']);
  });

  it('refuses other values with their file:line:col', () => {
    const bad = CONFIG.replace('errors: mask', 'errors: hide').replace('errors: pass', 'errors: masked');
    expect(() => parseConfig(bad, 'gateway.yaml', {})).toThrow(ConfigError);
    try {
      parseConfig(bad, 'gateway.yaml', {});
    } catch (err) {
      const lines = (err as ConfigError).issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
      expect(lines).toEqual([
        expect.stringMatching(/^3:11 server\.errors: .*pass.*mask/),
        expect.stringMatching(/^11:13 routes\[1\]\.errors: .*pass.*mask/),
      ]);
    }
  });
});

describe('maskedReply', () => {
  const upstream = (status: number, source: Reply['source'] = 'upstream'): Reply => ({
    status,
    source,
    body: new StaticBody(Buffer.from('stack trace')),
    headers: {
      'content-type': 'text/html',
      'content-length': '11',
      'content-encoding': 'gzip',
      etag: '"x"',
      'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT',
      'retry-after': '5',
      'set-cookie': ['a=b'],
      'x-request-id': 'other',
    },
  });

  it.each([
    [500, 'upstream', true],
    [599, 'cache', true],
    [499, 'upstream', false],
    [600, 'upstream', false],
    [503, 'error', false],
    [503, 'fallback', false],
    [503, 'gateway', false],
  ] as const)('masks %i from %s: %s', (status, source, expected) => {
    expect(isMaskable(upstream(status, source))).toBe(expected);
  });

  it('keeps the status and non-body headers, replaces the body and its headers', () => {
    const out = maskedReply(upstream(502), 'req-1');
    const body = JSON.stringify({
      error: {
        code: 'UPSTREAM_ERROR',
        message: 'The upstream service failed to handle the request.',
        requestId: 'req-1',
      },
    });
    expect(out.status).toBe(502);
    expect(out.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'retry-after': '5',
      'set-cookie': ['a=b'],
      'x-request-id': 'req-1',
    });
    expect((out.body as StaticBody).length).toBe(Buffer.byteLength(body));
  });
});

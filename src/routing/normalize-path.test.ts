import { normalizeTarget, type EscapedSlashes } from './normalize-path';

type Row = [raw: string, mode: EscapedSlashes, path: string, query: string];

describe('normalizeTarget', () => {
  it.each<Row>([
    // already canonical: fast path
    ['/', 'keep', '/', ''],
    ['/a/b', 'keep', '/a/b', ''],
    ['/a/b/', 'keep', '/a/b/', ''],
    ['/a/b?x=1', 'keep', '/a/b', '?x=1'],
    ['/.well-known/acme', 'keep', '/.well-known/acme', ''],
    ['/a/.../..b/b..', 'keep', '/a/.../..b/b..', ''],
    ["/a-b_c~d!$&'()*+,;=:@", 'keep', "/a-b_c~d!$&'()*+,;=:@", ''],
    // dot segments (RFC 3986 5.2.4), never above root, trailing slash kept
    ['/a/./b', 'keep', '/a/b', ''],
    ['/a/../b', 'keep', '/b', ''],
    ['/a/b/..', 'keep', '/a/', ''],
    ['/a/b/.', 'keep', '/a/b/', ''],
    ['/a/..', 'keep', '/', ''],
    ['/..', 'keep', '/', ''],
    ['/.', 'keep', '/', ''],
    ['/../../etc/passwd', 'keep', '/etc/passwd', ''],
    ['/a/b/../../../../c/', 'keep', '/c/', ''],
    ['/a/./?x', 'keep', '/a/', '?x'],
    ['/a/..?x=/../', 'keep', '/', '?x=/../'],
    // %2e variants take part in dot-segment removal
    ['/%2e%2e/etc', 'keep', '/etc', ''],
    ['/a/%2E%2E/b', 'keep', '/b', ''],
    ['/a/.%2e/b', 'keep', '/b', ''],
    ['/a/%2e./b', 'keep', '/b', ''],
    ['/a/%2e/b', 'keep', '/a/b', ''],
    ['/a/%2e%2e', 'keep', '/', ''],
    ['/%2e', 'keep', '/', ''],
    ['/public/%2e%2e/admin', 'keep', '/admin', ''],
    // duplicate slashes merged
    ['/a//b', 'keep', '/a/b', ''],
    ['//a///b//', 'keep', '/a/b/', ''],
    ['//', 'keep', '/', ''],
    ['//evil.example.com/x', 'keep', '/evil.example.com/x', ''],
    ['/a//..', 'keep', '/', ''],
    // escapes: unreserved decoded, others upper-cased, %2F/%5C opaque
    ['/%41%62%7e%2D%5f', 'keep', '/Ab~-_', ''],
    ['/a%3ab%20c', 'keep', '/a%3Ab%20c', ''],
    ['/a%252e', 'keep', '/a%252e', ''],
    ['/a/%2Fb', 'keep', '/a/%2Fb', ''],
    ['/a/%2fb', 'keep', '/a/%2Fb', ''],
    ['/a/%5cb', 'keep', '/a/%5Cb', ''],
    ['/..%2f..%2fetc', 'keep', '/..%2F..%2Fetc', ''],
    ['/api/..%2fadmin', 'keep', '/api/..%2Fadmin', ''],
    ['/api/%2e%2e%2fadmin', 'keep', '/api/..%2Fadmin', ''],
    ['/api/%2e%2e%5c..%5cadmin', 'keep', '/api/..%5C..%5Cadmin', ''],
    ['/a/b%2F..', 'keep', '/a/b%2F..', ''],
    ['/caf\u00e9', 'keep', '/caf%E9', ''],
    // query untouched
    ['/a?b=../../x&c=%2e//%zz%00', 'keep', '/a', '?b=../../x&c=%2e//%zz%00'],
    ['/a//b?', 'keep', '/a/b', '?'],
    ['/a/%2e?q=%2e', 'keep', '/a/', '?q=%2e'],
    // absolute-form is reduced to its path
    ['http://example.com/a/../b?x=1', 'keep', '/b', '?x=1'],
    ['HTTPS://Example.com:8443/a', 'keep', '/a', ''],
    ['http://example.com', 'keep', '/', ''],
    ['http://example.com?x', 'keep', '/', '?x'],
    ['http://user@example.com//a', 'keep', '/a', ''],
  ])('%j (%s) → %j %j', (raw, mode, path, query) => {
    expect(normalizeTarget(raw, mode)).toEqual({ path, query });
  });

  it.each<[raw: string, mode: EscapedSlashes, error: RegExp]>([
    ['/a/%2fb', 'reject', /encoded slash/],
    ['/a/%2Fb', 'reject', /encoded slash/],
    ['/a/%5Cb', 'reject', /encoded slash/],
    ['/api/..%2fadmin', 'reject', /encoded slash/],
    ['/a%00b', 'keep', /NUL/],
    ['/a%zz', 'keep', /percent-encoding/],
    ['/a%4', 'keep', /percent-encoding/],
    ['/a%', 'keep', /percent-encoding/],
    ['/a%4?x', 'keep', /percent-encoding/],
    ['/a%g1', 'keep', /percent-encoding/],
    ['/a\\b', 'keep', /backslash/],
    ['/a/..\\..\\etc', 'keep', /backslash/],
    ['/a\tb', 'keep', /control/],
    ['/a b', 'keep', /control/],
    ['/a\x7f', 'keep', /control/],
    ['/a\nb', 'keep', /control/],
    ['/a#frag', 'keep', /fragment/],
    ['/a\u0100', 'keep', /invalid character/],
    ['*', 'keep', /absolute path/],
    ['example.com:443', 'keep', /absolute path/],
    ['', 'keep', /absolute path/],
    ['a/b', 'keep', /absolute path/],
    ['http:///a', 'keep', /absolute path/],
    ['ftp://example.com/a', 'keep', /absolute path/],
    ['http://example.com#x', 'keep', /fragment/],
  ])('%j (%s) is refused', (raw, mode, error) => {
    const result = normalizeTarget(raw, mode);
    expect(result).toEqual({ error: expect.stringMatching(error) });
  });

  it('returns the input string itself on the fast path', () => {
    const raw = '/users/7/orders';
    const result = normalizeTarget(raw, 'keep');
    expect('path' in result && result.path).toBe(raw);
  });

  describe('on random hostile paths (seeded)', () => {
    const pieces = [
      'a',
      'b',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2e%2e',
      '.%2e',
      '%2f',
      '%5c',
      '%41',
      '%7e',
      '%3a',
      '',
      '/',
      '//',
      '~',
    ];
    const random = mulberry32(0xb3eacc);
    const samples = Array.from({ length: 5000 }, () => {
      let raw = '';
      const n = 1 + Math.floor(random() * 8);
      for (let i = 0; i < n; i++) raw += '/' + pieces[Math.floor(random() * pieces.length)];
      return raw;
    });

    it('always yields a canonical, idempotent path', () => {
      const offenders = samples.filter((raw) => {
        const result = normalizeTarget(raw, 'keep');
        if (!('path' in result)) return true;
        const { path } = result;
        const canonical =
          path.startsWith('/') &&
          !/\/\/|%2[eE]|%[0-9A-F][a-f]|%[a-f]/.test(path) &&
          !path.split('/').some((s) => s === '.' || s === '..');
        const again = normalizeTarget(path, 'keep');
        return !canonical || !('path' in again) || again.path !== path || again.query !== '';
      });
      expect(offenders).toEqual([]);
    });

    it('agrees with WHATWG URL on dot segments when no slash is escaped', () => {
      for (const raw of samples) {
        if (/%2f|%5c/i.test(raw)) continue;
        const result = normalizeTarget(raw, 'keep');
        const merged = raw.replace(/\/{2,}/g, '/');
        const viaUrl = new URL(merged, 'http://h').pathname.replace(/%2e/gi, '.').replace(/%7e/gi, '~');
        expect(result).toEqual({ path: viaUrl.replace(/%41/g, 'A').replace(/%3a/g, '%3A'), query: '' });
      }
    });
  });
});

/** Small seeded PRNG so failures reproduce. */
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

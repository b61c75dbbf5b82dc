/**
 * Unit tests: Cache-Control parsing: directive syntax, first-wins duplicates, malformed and huge delta-seconds.
 */
import { parseDirectives, parseRequestDirectives, parseResponseDirectives } from './cache-control';

describe('parseDirectives', () => {
  it.each([
    ['max-age=60', [['max-age', '60']]],
    [
      'Max-Age=60, PUBLIC',
      [
        ['max-age', '60'],
        ['public', ''],
      ],
    ],
    [
      '  no-cache ,  private  ',
      [
        ['no-cache', ''],
        ['private', ''],
      ],
    ],
    [
      'no-cache="Set-Cookie, X-Foo", max-age=5',
      [
        ['no-cache', 'Set-Cookie, X-Foo'],
        ['max-age', '5'],
      ],
    ],
    ['max-age="30"', [['max-age', '30']]],
    [
      'ext="a\\"b", s-maxage=1',
      [
        ['ext', 'a"b'],
        ['s-maxage', '1'],
      ],
    ],
    [',,max-age=1,,', [['max-age', '1']]],
    ['max-age=5, max-age=100', [['max-age', '5']]],
    ['', []],
  ])('%j', (header, expected) => {
    expect([...parseDirectives(header)]).toEqual(expected);
  });

  it('joins repeated header lines', () => {
    expect([...parseDirectives(['max-age=1', 'no-store'])]).toEqual([
      ['max-age', '1'],
      ['no-store', ''],
    ]);
  });
});

describe('parseResponseDirectives', () => {
  it('reads every directive the cache acts on', () => {
    const cc = parseResponseDirectives(
      'public, max-age=60, s-maxage=30, must-revalidate, proxy-revalidate, stale-if-error=600, stale-while-revalidate=20',
    );
    expect(cc).toEqual({
      noStore: false,
      noCache: false,
      private: false,
      public: true,
      mustRevalidate: true,
      proxyRevalidate: true,
      maxAgeS: 60,
      sMaxAgeS: 30,
      staleIfErrorS: 600,
      staleWhileRevalidateS: 20,
    });
  });

  it.each([
    ['max-age=abc', 0],
    ['max-age', 0],
    ['max-age=-1', 0],
    ['max-age=99999999999', 2147483648],
  ])('a malformed or huge max-age (%s) counts as %d', (header, expected) => {
    expect(parseResponseDirectives(header).maxAgeS).toBe(expected);
  });

  it('ignores a malformed stale-if-error', () => {
    expect(parseResponseDirectives('stale-if-error=soon').staleIfErrorS).toBeUndefined();
  });

  it('treats qualified private and no-cache as the unqualified ones', () => {
    const cc = parseResponseDirectives('private="x-user", no-cache="set-cookie"');
    expect(cc.private).toBe(true);
    expect(cc.noCache).toBe(true);
  });
});

describe('parseRequestDirectives', () => {
  it('returns the shared empty object without a header', () => {
    expect(parseRequestDirectives(undefined)).toBe(parseRequestDirectives(undefined));
  });

  it('reads no-cache, no-store, max-age and min-fresh', () => {
    expect(parseRequestDirectives('no-cache, no-store, max-age=0, min-fresh=5')).toEqual({
      noCache: true,
      noStore: true,
      maxAgeS: 0,
      minFreshS: 5,
    });
  });
});

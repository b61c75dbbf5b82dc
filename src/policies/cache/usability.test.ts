/**
 * Unit tests: When a stored entry answers: fresh, stale-while-revalidate, stale-if-error, and how long it is kept.
 */
import { NO_REQUEST_DIRECTIVES, parseRequestDirectives } from './cache-control';
import { T0, testEntry } from './test-entries';
import { keepMs, staleIfErrorAllows, usability, type CacheWindows } from './usability';

const windows: CacheWindows = { ttlMs: 30_000, staleIfErrorMs: 600_000, staleWhileRevalidateMs: 0 };
const swr: CacheWindows = { ...windows, staleWhileRevalidateMs: 10_000 };

describe('usability', () => {
  it.each([
    ['fresh within max-age', 'max-age=60', 59_000, windows, 'fresh'],
    ['stale at max-age', 'max-age=60', 60_000, windows, 'validate'],
    ['stale within the route swr window', 'max-age=60', 65_000, swr, 'stale-while-revalidate'],
    ['stale past the route swr window', 'max-age=60', 71_000, swr, 'validate'],
    [
      'the response swr wins over the route',
      'max-age=60, stale-while-revalidate=30',
      85_000,
      swr,
      'stale-while-revalidate',
    ],
    ['no-cache is never used unvalidated', 'no-cache, max-age=60', 1_000, windows, 'validate'],
    ['no-cache is never served stale', 'no-cache, max-age=1', 2_000, swr, 'validate'],
    ['must-revalidate forbids swr', 'max-age=1, must-revalidate', 2_000, swr, 'validate'],
    ['s-maxage implies proxy-revalidate', 's-maxage=1', 2_000, swr, 'validate'],
    ['route ttl without freshness', undefined, 29_000, windows, 'fresh'],
  ] as const)('%s', (_name, cacheControl, elapsedMs, w, expected) => {
    const entry = testEntry({ cacheControl });
    expect(usability(entry, NO_REQUEST_DIRECTIVES, T0 + elapsedMs, w)).toBe(expected);
  });

  it.each([
    ['no-cache', 'validate'],
    ['max-age=0', 'validate'],
    ['max-age=5', 'validate'],
    ['max-age=20', 'fresh'],
    ['min-fresh=55', 'validate'],
    ['min-fresh=10', 'fresh'],
  ])('a request with %s', (requestCacheControl, expected) => {
    const entry = testEntry({ cacheControl: 'max-age=60' });
    expect(usability(entry, parseRequestDirectives(requestCacheControl), T0 + 10_000, swr)).toBe(expected);
  });
});

describe('staleIfErrorAllows', () => {
  it.each([
    ['within the route window', 'max-age=1', 600_000, true],
    ['past the route window', 'max-age=1', 602_000, false],
    ['the response window wins', 'max-age=1, stale-if-error=5', 7_000, false],
    ['must-revalidate', 'max-age=1, must-revalidate', 2_000, false],
    ['proxy-revalidate', 'max-age=1, proxy-revalidate', 2_000, false],
    ['s-maxage', 's-maxage=1', 2_000, false],
    ['no-cache on the route default', 'no-cache', 2_000, false],
    ['no-cache with its own stale-if-error', 'no-cache, max-age=1, stale-if-error=60', 30_000, true],
    ['still fresh (request asked to validate)', 'max-age=60', 1_000, true],
  ] as const)('%s', (_name, cacheControl, elapsedMs, allowed) => {
    expect(staleIfErrorAllows(testEntry({ cacheControl }), T0 + elapsedMs, windows)).toBe(allowed);
  });
});

describe('keepMs', () => {
  it('is the freshness left plus the longer stale window', () => {
    expect(keepMs(testEntry({ cacheControl: 'max-age=60' }), T0 + 10_000, swr)).toBe(50_000 + 600_000);
  });

  it('is freshness alone when stale use is forbidden', () => {
    expect(keepMs(testEntry({ cacheControl: 'max-age=60, must-revalidate' }), T0, swr)).toBe(60_000);
  });

  it('keeps an entry with validators at least the route ttl', () => {
    const entry = testEntry({ cacheControl: 'max-age=0, must-revalidate', headers: { etag: '"v1"' } });
    expect(keepMs(entry, T0, windows)).toBe(30_000);
  });
});

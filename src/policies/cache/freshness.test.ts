/**
 * Unit tests: Freshness lifetime and age arithmetic (RFC 9111 §4.2) with explicit times.
 */
import { parseResponseDirectives } from './cache-control';
import { ageSeconds, correctedInitialAgeMs, currentAgeMs, freshnessLifetimeMs } from './freshness';

const T0 = Date.parse('Tue, 01 Jun 2021 12:00:00 GMT');
const httpDate = (ms: number) => new Date(ms).toUTCString();

describe('freshnessLifetimeMs (shared cache)', () => {
  const ttlMs = 30_000;
  it.each([
    ['s-maxage over max-age', 's-maxage=10, max-age=60', {}, 10_000],
    ['max-age over Expires', 'max-age=60', { expires: httpDate(T0 + 5_000) }, 60_000],
    [
      'Expires relative to Date',
      undefined,
      { date: httpDate(T0 - 10_000), expires: httpDate(T0 + 20_000) },
      30_000,
    ],
    ['Expires without Date: relative to arrival', undefined, { expires: httpDate(T0 + 7_000) }, 7_000],
    ['Expires in the past', undefined, { date: httpDate(T0), expires: httpDate(T0 - 1_000) }, 0],
    ['malformed Expires means expired', undefined, { expires: '0' }, 0],
    ['no freshness: the route ttl', undefined, {}, ttlMs],
    ['max-age=0', 'max-age=0', {}, 0],
  ])('%s', (_name, cacheControl, headers, expected) => {
    const cc = parseResponseDirectives(cacheControl);
    expect(freshnessLifetimeMs(cc, headers as Record<string, string>, T0, ttlMs)).toBe(expected);
  });
});

describe('age (RFC 9111 §4.2.3)', () => {
  it('takes the apparent age from Date', () => {
    const headers = { date: httpDate(T0 - 5_000) };
    expect(correctedInitialAgeMs(headers, { requestTime: T0 - 100, responseTime: T0 })).toBe(5_000);
  });

  it('adds the response delay to the Age header', () => {
    const headers = { date: httpDate(T0), age: '10' };
    expect(correctedInitialAgeMs(headers, { requestTime: T0 - 2_000, responseTime: T0 })).toBe(12_000);
  });

  it('never goes negative for a Date from the future', () => {
    const headers = { date: httpDate(T0 + 60_000) };
    expect(correctedInitialAgeMs(headers, { requestTime: T0, responseTime: T0 })).toBe(0);
  });

  it('ignores a malformed Age', () => {
    expect(correctedInitialAgeMs({ age: 'old' }, { requestTime: T0, responseTime: T0 })).toBe(0);
  });

  it('grows with the time the entry is resident', () => {
    const entry = { responseTime: T0, initialAgeMs: 3_000 };
    expect(currentAgeMs(entry, T0)).toBe(3_000);
    expect(currentAgeMs(entry, T0 + 4_500)).toBe(7_500);
    expect(ageSeconds(currentAgeMs(entry, T0 + 4_500))).toBe(7);
  });
});

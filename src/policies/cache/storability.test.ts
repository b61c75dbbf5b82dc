/**
 * Unit tests: The storability table: which responses a shared cache may store, and the stricter choices.
 */
import { parseResponseDirectives } from './cache-control';
import { whyNotStorable, type StorableInput } from './storability';

function input(
  status: number,
  cacheControl?: string,
  headers: Record<string, string> = {},
  request: { authorization?: boolean; cookie?: boolean } = {},
): StorableInput {
  const all = cacheControl === undefined ? headers : { ...headers, 'cache-control': cacheControl };
  return {
    status,
    headers: all,
    cc: parseResponseDirectives(cacheControl),
    authorization: request.authorization ?? false,
    cookie: request.cookie ?? false,
  };
}

describe('whyNotStorable', () => {
  it.each([
    // Heuristically cacheable statuses are stored on the route ttl alone.
    ...[200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501].map((status) => [
      `${status} without freshness`,
      input(status),
      undefined,
    ]),
    ['302 without freshness', input(302), 'no-freshness'],
    ['302 with max-age', input(302, 'max-age=60'), undefined],
    ['307 with Expires', input(307, undefined, { expires: 'Tue, 01 Jun 2100 12:00:00 GMT' }), undefined],
    ['403 public', input(403, 'public'), undefined],
    ['206 even with max-age', input(206, 'max-age=60'), 'status'],
    ['304', input(304, 'max-age=60'), 'status'],
    ['500 with max-age', input(500, 'max-age=60'), 'status'],
    ['503', input(503), 'status'],
    ['no-store', input(200, 'no-store'), 'no-store'],
    ['no-store beats public', input(200, 'public, no-store'), 'no-store'],
    ['private', input(200, 'private, max-age=60'), 'private'],
    ['private with a field list', input(200, 'private="x-user"'), 'private'],
    ['no-cache is stored (validated on use)', input(200, 'no-cache'), undefined],
    ['Set-Cookie', input(200, 'max-age=60', { 'set-cookie': 'a=b' }), 'set-cookie'],
    ['Set-Cookie even when public', input(200, 'public, s-maxage=60', { 'set-cookie': 'a=b' }), 'set-cookie'],
    ['Authorization', input(200, 'max-age=60', {}, { authorization: true }), 'authorization'],
    ['Authorization + public', input(200, 'public', {}, { authorization: true }), undefined],
    ['Authorization + s-maxage', input(200, 's-maxage=60', {}, { authorization: true }), undefined],
    [
      'Authorization + must-revalidate (RFC allows, we do not)',
      input(200, 'must-revalidate, max-age=5', {}, { authorization: true }),
      'authorization',
    ],
    ['Cookie on the route ttl alone', input(200, undefined, {}, { cookie: true }), 'cookie'],
    ['Cookie with max-age', input(200, 'max-age=60', {}, { cookie: true }), undefined],
    ['Vary: *', input(200, 'max-age=60', { vary: 'Accept, *' }), 'vary-star'],
    ['Vary: Accept-Encoding', input(200, 'max-age=60', { vary: 'Accept-Encoding' }), undefined],
  ] as [string, StorableInput, string | undefined][])('%s', (_name, given, expected) => {
    expect(whyNotStorable(given)).toBe(expected);
  });
});

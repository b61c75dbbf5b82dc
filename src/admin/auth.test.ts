/**
 * Bearer token checks and the cross-site refusal, on plain request heads.
 */
import type { IncomingMessage } from 'node:http';
import { authorized, crossSite } from './auth';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('admin auth', () => {
  it.each([
    [{}, undefined, true],
    [{}, 's3cret', false],
    [{ authorization: 'Bearer s3cret' }, 's3cret', true],
    [{ authorization: 'bearer   s3cret ' }, 's3cret', true],
    [{ authorization: 'Bearer s3cre' }, 's3cret', false],
    [{ authorization: 'Bearer s3cret-and-more' }, 's3cret', false],
    [{ authorization: 'Basic czNjcmV0' }, 's3cret', false],
    [{ authorization: 's3cret' }, 's3cret', false],
  ])('headers %j with token %p: %p', (headers, token, expected) => {
    expect(authorized(req(headers), token)).toBe(expected);
  });

  it.each([
    [{ host: '127.0.0.1:9090' }, false],
    [{ host: '127.0.0.1:9090', origin: 'http://127.0.0.1:9090' }, false],
    [{ host: '127.0.0.1:9090', origin: 'https://evil.example' }, true],
    [{ host: '127.0.0.1:9090', origin: 'null' }, true],
    [{ host: '127.0.0.1:9090', 'sec-fetch-site': 'cross-site' }, true],
    [{ host: '127.0.0.1:9090', 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:9090' }, false],
  ])('cross-site %j: %p', (headers, expected) => {
    expect(crossSite(req(headers))).toBe(expected);
  });
});

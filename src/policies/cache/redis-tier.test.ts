/**
 * Unit tests: The Redis frame: binary-safe round trip and rejection of frames this version did not write.
 */
import { decodeEntry, encodeEntry } from './redis-tier';
import { testEntry } from './test-entries';

describe('Redis frame', () => {
  it('round-trips an entry with a binary body and a vary key', () => {
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const entry = testEntry({
      body,
      cacheControl: 'max-age=60, stale-if-error=30',
      headers: { etag: '"v1"', 'set-x': 'y' },
      vary: { names: ['accept-language', 'origin'], request: { 'accept-language': 'en' } },
    });
    const decoded = decodeEntry(encodeEntry(entry))!;
    expect(decoded.body.equals(body)).toBe(true);
    expect(decoded.headers).toEqual(entry.headers);
    expect(decoded.vary).toEqual({ names: ['accept-language', 'origin'], values: ['en', undefined] });
    expect(decoded.etag).toBe('"v1"');
    expect(decoded.staleIfErrorMs).toBe(30_000);
    expect(decoded.staleWhileRevalidateMs).toBeUndefined();
    expect(decoded.size).toBe(entry.size);
    for (const field of [
      'status',
      'responseTime',
      'initialAgeMs',
      'lifetimeMs',
      'noCache',
      'noStale',
    ] as const)
      expect(decoded[field]).toEqual(entry[field]);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['truncated head', Buffer.from([0, 0, 1, 0, 123])],
    ['not JSON', Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('abc')])],
    ['other version', Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('{"v":99}')])],
  ])('rejects a frame that is %s', (_name, frame) => {
    expect(decodeEntry(frame)).toBeUndefined();
  });
});

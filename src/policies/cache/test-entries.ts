/**
 * @module policies/cache/test-entries
 * Entry builders for the cache's unit tests (not used by the gateway).
 */
import { parseResponseDirectives } from './cache-control';
import { createEntry, type CacheEntry } from './entry';
import { varyKeyOf } from './vary';

export const T0 = Date.parse('Tue, 01 Jun 2021 12:00:00 GMT');

export interface TestEntryOptions {
  cacheControl?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status?: number;
  at?: number;
  ttlMs?: number;
  vary?: { names: string[]; request: Record<string, string> };
}

/** An entry as if an upstream answered at `at` (default T0) with these headers and body. */
export function testEntry(options: TestEntryOptions = {}): CacheEntry {
  const at = options.at ?? T0;
  const headers: Record<string, string> = { date: new Date(at).toUTCString(), ...options.headers };
  if (options.cacheControl !== undefined) headers['cache-control'] = options.cacheControl;
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body ?? 'body');
  return createEntry(
    options.status ?? 200,
    headers,
    body,
    { requestTime: at, responseTime: at },
    parseResponseDirectives(options.cacheControl),
    options.ttlMs ?? 30_000,
    options.vary && varyKeyOf(options.vary.names, options.vary.request),
  );
}

/**
 * @module policies/cache/conditional
 * Validation both ways: the conditional request the cache sends to check a stored response
 * (If-None-Match from its ETag, If-Modified-Since from its Last-Modified; RFC 9111 §4.3.1),
 * and the client's own If-None-Match / If-Modified-Since evaluated against a stored response,
 * so a browser revalidating against the gateway gets a 304 from the cache (§4.3.2).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ReplyHeaders } from '../../pipeline/stage';
import type { CacheEntry } from './entry';

/** One entity-tag (weak or strong) or `*` in an If-None-Match list. */
const ENTITY_TAG = /\*|(?:W\/)?"[^"]*"/g;

/** Headers a 304 carries (RFC 9110 §15.4.5) besides the ones every response gets. */
const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
];

export function hasValidators(entry: CacheEntry): boolean {
  return entry.etag !== undefined || entry.lastModified !== undefined;
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal, W/ ignored. */
function weakEqual(a: string, b: string): boolean {
  return (a.startsWith('W/') ? a.slice(2) : a) === (b.startsWith('W/') ? b.slice(2) : b);
}

function noneMatchHits(ifNoneMatch: string, etag: string | undefined): boolean {
  for (const tag of ifNoneMatch.match(ENTITY_TAG) ?? []) {
    if (tag === '*' || (etag !== undefined && weakEqual(tag, etag))) return true;
  }
  return false;
}

/** Whether the client's conditional GET/HEAD is answered 304 by `entry` (RFC 9110 §13.2.2 order). */
export function clientNotModified(request: IncomingHttpHeaders, entry: CacheEntry): boolean {
  if (entry.status !== 200) return false;
  const ifNoneMatch = request['if-none-match'];
  if (ifNoneMatch !== undefined) return noneMatchHits(ifNoneMatch, entry.etag);
  const since = request['if-modified-since'];
  if (since === undefined || entry.lastModified === undefined) return false;
  const sinceMs = Date.parse(since);
  const modifiedMs = Date.parse(entry.lastModified);
  return !Number.isNaN(sinceMs) && !Number.isNaN(modifiedMs) && modifiedMs <= sinceMs;
}

/** Preconditions the cache does not evaluate: such requests bypass it. */
export function hasUnhandledPrecondition(request: IncomingHttpHeaders): boolean {
  return request['if-match'] !== undefined || request['if-unmodified-since'] !== undefined;
}

/** The subset of a stored response's headers a 304 to the client carries. */
export function notModifiedHeaders(headers: ReplyHeaders): ReplyHeaders {
  const out: ReplyHeaders = {};
  for (const name of NOT_MODIFIED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Makes the upstream request conditional on `entry`: the client's own If-None-Match and
 * If-Modified-Since are taken out (they are answered from the entry afterwards) and the entry's
 * validators put in. Edits the flat [name, value, …] list in place.
 */
export function addValidators(headers: string[], entry: CacheEntry): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'if-none-match' || name === 'if-modified-since') headers.splice(i, 2);
  }
  if (entry.etag !== undefined) headers.push('if-none-match', entry.etag);
  if (entry.lastModified !== undefined) headers.push('if-modified-since', entry.lastModified);
}

/**
 * @module policies/cache/freshness
 * Freshness and age arithmetic of RFC 9111 §4.2 for a shared cache, on wall-clock
 * milliseconds passed in explicitly (so tests state their times): the freshness lifetime
 * (`s-maxage` over `max-age` over `Expires` − `Date` over the route's `ttl`), the corrected
 * initial age of a response (§4.2.3) and the windows in which a stale response may still serve.
 */
import type { ReplyHeaders } from '../../pipeline/stage';
import type { ResponseDirectives } from './cache-control';

/** When the exchange that produced a response started and when its headers arrived (epoch ms). */
export interface Timing {
  readonly requestTime: number;
  readonly responseTime: number;
}

/** A single header value (the first of a repeated one). */
export function headerValue(headers: ReplyHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An HTTP-date in epoch ms, or NaN when absent or malformed. */
export function httpDate(value: string | undefined): number {
  return value === undefined ? NaN : Date.parse(value);
}

/** The response's Date, or when it has none (or a malformed one) the time it was received. */
export function dateOf(headers: ReplyHeaders, responseTime: number): number {
  const date = httpDate(headerValue(headers, 'date'));
  return Number.isNaN(date) ? responseTime : date;
}

/** Whether the response states its own freshness (`s-maxage`, `max-age` or `Expires`). */
export function hasExplicitFreshness(cc: ResponseDirectives, headers: ReplyHeaders): boolean {
  return cc.sMaxAgeS !== undefined || cc.maxAgeS !== undefined || headers.expires !== undefined;
}

/**
 * §4.2.1 for a shared cache: s-maxage, else max-age, else Expires − Date (a malformed Expires
 * means already expired), else `heuristicMs` (the route's `ttl`).
 */
export function freshnessLifetimeMs(
  cc: ResponseDirectives,
  headers: ReplyHeaders,
  responseTime: number,
  heuristicMs: number,
): number {
  if (cc.sMaxAgeS !== undefined) return cc.sMaxAgeS * 1000;
  if (cc.maxAgeS !== undefined) return cc.maxAgeS * 1000;
  const expiresHeader = headerValue(headers, 'expires');
  if (expiresHeader !== undefined) {
    const expires = httpDate(expiresHeader);
    if (Number.isNaN(expires)) return 0;
    return Math.max(0, expires - dateOf(headers, responseTime));
  }
  return heuristicMs;
}

/** The Age header in ms; absent or malformed counts as 0. */
function ageHeaderMs(headers: ReplyHeaders): number {
  const raw = headerValue(headers, 'age');
  return raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) * 1000 : 0;
}

/**
 * §4.2.3 corrected_initial_age: the larger of the apparent age (how old Date says it is) and
 * the Age the upstream sent plus the time the exchange took.
 */
export function correctedInitialAgeMs(headers: ReplyHeaders, timing: Timing): number {
  const apparentAge = Math.max(0, timing.responseTime - dateOf(headers, timing.responseTime));
  const responseDelay = Math.max(0, timing.responseTime - timing.requestTime);
  return Math.max(apparentAge, ageHeaderMs(headers) + responseDelay);
}

/** What a stored response's current age depends on. */
export interface AgeBasis {
  readonly responseTime: number;
  readonly initialAgeMs: number;
}

/** §4.2.3 current_age = corrected_initial_age + resident_time. */
export function currentAgeMs(entry: AgeBasis, now: number): number {
  return entry.initialAgeMs + Math.max(0, now - entry.responseTime);
}

/** Whole seconds for the Age header. */
export function ageSeconds(ageMs: number): number {
  return Math.floor(ageMs / 1000);
}

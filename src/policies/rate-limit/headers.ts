/**
 * @module policies/rate-limit/headers
 * How a limit is told to clients, per rule (`headers:`), on passing answers and on the 429:
 * - `standard`: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds until the window
 *   resets) and `RateLimit-Policy: <limit>;w=<window seconds>` (the fields most clients and
 *   libraries read today, from the earlier drafts);
 * - `draft`: the current draft-ietf-httpapi-ratelimit-headers (-08 onwards) fields,
 *   `RateLimit-Policy: "<name>";q=<limit>;w=<window>` and `RateLimit: "<name>";r=<remaining>;t=<reset>`;
 * - `legacy`: X-RateLimit-Limit / -Remaining / -Reset, Reset being the UTC epoch second at which
 *   the window resets, as GitHub, Twitter and express-rate-limit send it (the standard and
 *   draft fields send the seconds left instead);
 * - `none`: nothing.
 * A `key: consumer` limit also names the request's tier, in the same family: `X-RateLimit-Tier`
 * with `legacy` (the name apps that hand-rolled tiers on express-rate-limit's X- headers sent),
 * `RateLimit-Tier` with `standard` and `draft` (no standard field carries it), none with `none`.
 * The values that never change (limit, policy, tier) are rendered once per rule.
 */
import type { RateLimitHeaders } from '../../config/types';
import type { ReplyHeaders } from '../../pipeline/stage';

/**
 * Adds the rate-limit fields of one rule to a reply's headers: `resetSeconds` is the delay the
 * standard and draft fields send, `msBeforeNext` the exact time left, for legacy's epoch second.
 */
export type HeaderWriter = (
  headers: ReplyHeaders,
  remaining: number,
  resetSeconds: number,
  msBeforeNext: number,
) => void;

/** What the client is told about one limit. */
export interface AdvertisedLimit {
  readonly mode: RateLimitHeaders;
  /** The nominal limit (burst is slack on top and is not advertised). */
  readonly limit: number;
  readonly windowSeconds: number;
  /** Policy name for the draft fields: `default`, or the key kind when a route has several limits. */
  readonly name: string;
}

/** The writer for one rule, or undefined when it sends no headers. */
export function compileHeaders(advertised: AdvertisedLimit): HeaderWriter | undefined {
  const { limit, windowSeconds, name } = advertised;
  const limitText = String(limit);
  switch (advertised.mode) {
    case 'none':
      return undefined;
    case 'standard': {
      const policy = `${limit};w=${windowSeconds}`;
      return (headers, remaining, reset) => {
        headers['ratelimit-limit'] = limitText;
        headers['ratelimit-remaining'] = String(remaining);
        headers['ratelimit-reset'] = String(reset);
        headers['ratelimit-policy'] = policy;
      };
    }
    case 'draft': {
      const quoted = JSON.stringify(name);
      const policy = `${quoted};q=${limit};w=${windowSeconds}`;
      return (headers, remaining, reset) => {
        headers['ratelimit-policy'] = policy;
        headers.ratelimit = `${quoted};r=${remaining};t=${reset}`;
      };
    }
    case 'legacy':
      return (headers, remaining, _reset, msBeforeNext) => {
        headers['x-ratelimit-limit'] = limitText;
        headers['x-ratelimit-remaining'] = String(remaining);
        headers['x-ratelimit-reset'] = String(Math.ceil((Date.now() + msBeforeNext) / 1000));
      };
  }
}

/** Adds the tier name of a consumer limit to a reply's headers. */
export type TierWriter = (headers: ReplyHeaders) => void;

/** The tier header of one tier of a consumer rule, or undefined when the rule sends no headers. */
export function compileTierHeader(mode: RateLimitHeaders, tier: string): TierWriter | undefined {
  switch (mode) {
    case 'none':
      return undefined;
    case 'legacy':
      return (headers) => {
        headers['x-ratelimit-tier'] = tier;
      };
    case 'standard':
    case 'draft':
      return (headers) => {
        headers['ratelimit-tier'] = tier;
      };
  }
}

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
 * The values that never change (limit, policy) are rendered once per rule.
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

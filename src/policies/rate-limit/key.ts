/**
 * @module policies/rate-limit/key
 * What a rate limit (or slowDown) counts by, as one function per rule built at create() time:
 * `ip` → the client address (`ex.clientIp`, already resolved through trustProxy); `route` → one
 * counter for the whole route; `header:<name>` → the header's value, hashed.
 *
 * A request without the header is counted by client IP under `header-missing:<ip>`, so leaving
 * the header out neither escapes the limit nor lumps every such client into one shared counter.
 * Header values are hashed (sha256, base64url) before they become counter keys: the header may
 * carry a credential, which must not end up in Redis or a heap dump, and a 16 kB value must not
 * become a 16 kB key. `key: consumer` is resolved by `consumers.ts`, not here.
 */
import { hash } from 'node:crypto';
import type { RateLimitKey } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';

/** The counter key of one request for one rule. */
export type KeyOf = (ex: Exchange) => string;

/** The key kinds this module resolves (consumers need their tier map; see consumers.ts). */
export type PlainKey = Exclude<RateLimitKey, { kind: 'consumer' }>;

const byIp: KeyOf = (ex) => ex.clientIp;
// The counter itself is per route, so every request of the route shares this one key.
const byRoute: KeyOf = () => 'route';

/** Builds the key function of a rule; called once per rule, never per request. */
export function compileKey(key: PlainKey): KeyOf {
  switch (key.kind) {
    case 'ip':
      return byIp;
    case 'route':
      return byRoute;
    case 'header':
      return byHeader(key.name);
  }
}

function byHeader(name: string): KeyOf {
  return (ex) => {
    const value = ex.req.headers[name];
    const text = Array.isArray(value) ? value.join(',') : value;
    return text ? `h:${digest(text)}` : `header-missing:${ex.clientIp}`;
  };
}

/** A short, fixed-length stand-in for a header value (never the value itself). */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url');
}

/** A label for logs and the draft header's policy name: ip, route, header-<name> or consumer. */
export function keyLabel(key: RateLimitKey): string {
  return key.kind === 'header' ? `header-${key.name}` : key.kind;
}

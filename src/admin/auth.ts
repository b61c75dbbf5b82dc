/**
 * @module admin/auth
 * Admin authentication (DESIGN.md "Admin auth"): with `server.admin.token` set, `/admin/*` needs
 * `Authorization: Bearer <token>`. Both sides are hashed to equal-length digests and compared
 * with crypto.timingSafeEqual, so neither the token's content nor its length leaks through
 * response timing. Also refuses cross-site browser requests to mutations, so that a web page
 * cannot drive a loopback admin listener without a token (CSRF).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Whether `req` carries the bearer token (always true when no token is configured). */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined || token === '') return true;
  const match = BEARER.exec(req.headers.authorization ?? '');
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/**
 * Whether a browser sent `req` from another site. Browsers add `Origin` (and `Sec-Fetch-Site`)
 * to cross-origin POSTs; the dashboard's own requests are same-origin.
 */
export function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/**
 * @module policies/headers/checks
 * Header names the `headers` policy may not touch, refused at validation with the reason:
 * hop-by-hop headers belong to one connection (RFC 9110 §7.6.1), Content-Length and
 * Transfer-Encoding frame the body, and Host, X-Forwarded-* and X-Request-Id are the gateway's
 * own (`hostHeader`, `trustProxy` and the request id decide them), so a route cannot forge them
 * for the upstream or hide them from the client. Runs on possibly invalid data.
 */
import { ptr } from '../../config/schema-errors';
import type { Issues } from '../../config/validate';
import { HOP_BY_HOP } from '../../http/headers';
import { rec, type Rec } from '../../config/raw-data';

/** Why `name` (lower-cased) may not be changed on `side`, or undefined when it may. */
export function forbiddenReason(name: string, side: 'request' | 'response'): string | undefined {
  if (HOP_BY_HOP.has(name)) return 'is hop-by-hop: it belongs to one connection and is never forwarded';
  if (name === 'content-length') return 'frames the body; the gateway sets it';
  if (name === 'x-request-id')
    return 'is managed by the gateway (kept from the client when sane, else generated)';
  if (side === 'response') return undefined;
  if (name === 'host') return 'is set by the hostHeader option of the route';
  if (name.startsWith('x-forwarded-'))
    return 'is set by the gateway (server.trustProxy decides whose values are kept)';
  return undefined;
}

/** Records every forbidden name in `server.headers` and each route's `headers`. */
export function checkHeaderChanges(root: Rec | undefined, issues: Issues): void {
  checkBlock(rec(rec(root?.server)?.headers), ['server', 'headers'], issues);
  const routes = Array.isArray(root?.routes) ? (root.routes as unknown[]) : [];
  routes.forEach((route, i) => checkBlock(rec(rec(route)?.headers), ['routes', i, 'headers'], issues));
}

function checkBlock(block: Rec | undefined, at: readonly (string | number)[], issues: Issues): void {
  for (const side of ['request', 'response'] as const) {
    const changes = rec(block?.[side]);
    if (!changes) continue;
    for (const op of ['set', 'add'])
      for (const name of Object.keys(rec(changes[op]) ?? {}))
        report(name, side, ptr(...at, side, op, name), 'key', issues);
    const remove = Array.isArray(changes.remove) ? (changes.remove as unknown[]) : [];
    remove.forEach((name, j) => {
      if (typeof name === 'string') report(name, side, ptr(...at, side, 'remove', j), 'value', issues);
    });
  }
}

function report(
  name: string,
  side: 'request' | 'response',
  pointer: string,
  where: 'key' | 'value',
  issues: Issues,
): void {
  const reason = forbiddenReason(name.toLowerCase(), side);
  if (reason) issues.add(pointer, `${name} ${reason}`, where);
}

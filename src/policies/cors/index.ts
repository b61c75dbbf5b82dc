/**
 * @module policies/cors
 * Pipeline position: outermost. A CORS preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered here, 204, before the rate limit counts it and
 * without reaching the upstream; every other answer of the route (the upstream's, the cache's,
 * a fallback, the gateway's own 429 or 503) gets the Access-Control-* headers, so a browser
 * script can read an error too. A 404 before any route matched gets the server default's
 * through `pipeline/refusal-headers.ts`.
 *
 * Choices (Traefik's headers middleware, where Envoy and Traefik differ):
 * - An allowed origin is echoed in Access-Control-Allow-Origin (`*` when `origins` lists `*`,
 *   which `credentials: true` forbids at validation); `Vary: Origin` is merged into every
 *   answer of an allowlist route, with or without Origin, so a shared cache never hands one
 *   origin's answer to another.
 * - A disallowed origin gets no CORS headers at all, and its preflight is still answered here
 *   (204, nothing allowed): the browser then refuses the call itself, and the upstream never
 *   sees preflights it does not know about (Envoy would forward them).
 * - The gateway owns CORS on a route with `cors`: an upstream's own Access-Control-Allow-Origin,
 *   -Credentials and -Expose-Headers are replaced, or removed for a disallowed origin.
 * - The preflight does not check the requested method or headers against the lists: it states
 *   the lists and the browser enforces them (as Envoy and Traefik do).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from '../../pipeline/exchange';
import { settle } from '../../pipeline/settle';
import type { Reply, ReplyHeaders, StageFactory } from '../../pipeline/stage';
import { EMPTY_BODY } from '../../pipeline/static-body';
import { appendVary } from '../../pipeline/vary';
import type { CorsConfig } from './config';
import { OriginMatcher } from './origins';

const ALLOW_ORIGIN = 'access-control-allow-origin';
const ALLOW_CREDENTIALS = 'access-control-allow-credentials';
const EXPOSE_HEADERS = 'access-control-expose-headers';
/** What the gateway decides on a `cors` route, whatever the upstream said. */
const OWNED_HEADERS = [ALLOW_ORIGIN, ALLOW_CREDENTIALS, EXPOSE_HEADERS] as const;

/** The method a CORS preflight asks about, or undefined when `method`/`headers` are not a preflight. */
export function preflightMethod(method: string, headers: IncomingHttpHeaders): string | undefined {
  if (method !== 'OPTIONS' || headers.origin === undefined) return undefined;
  const asked = headers['access-control-request-method'];
  return typeof asked === 'string' && asked !== '' ? asked : undefined;
}

/** One route's (or the server's) CORS rules, compiled once. */
export class CorsPolicy {
  private readonly origins: OriginMatcher;
  /** Pure `*` without credentials: the same headers for everyone, so no Vary: Origin. */
  private readonly anyOrigin: boolean;
  private readonly credentials: boolean;
  private readonly allowMethods: string;
  /** undefined = reflect Access-Control-Request-Headers. */
  private readonly allowHeaders: string | undefined;
  private readonly exposeHeaders: string | undefined;
  private readonly maxAge: string | undefined;
  private readonly preflightVary: string;

  constructor(config: CorsConfig) {
    this.origins = new OriginMatcher(config.origins);
    this.anyOrigin = this.origins.any && !config.credentials;
    this.credentials = config.credentials;
    this.allowMethods = config.methods.join(', ');
    this.allowHeaders = config.headers?.join(', ');
    this.exposeHeaders = config.exposeHeaders.length > 0 ? config.exposeHeaders.join(', ') : undefined;
    this.maxAge = config.maxAgeSeconds === undefined ? undefined : String(config.maxAgeSeconds);
    const vary = this.anyOrigin ? [] : ['Origin'];
    if (this.allowHeaders === undefined) vary.push('Access-Control-Request-Headers');
    this.preflightVary = vary.join(', ');
  }

  /** The 204 answer to a preflight from `origin` (no CORS headers when it is not allowed). */
  preflight(ex: Exchange, origin: string): Reply {
    const headers: ReplyHeaders = { 'x-request-id': ex.reqId };
    if (this.preflightVary !== '') headers.vary = this.preflightVary;
    // A preflight has no body; one that came with an unread body would be drained to keep the
    // connection, so close it instead (as the gateway's error answers do).
    if (ex.hasBody && !ex.req.complete) headers.connection = 'close';
    if (this.origins.matches(origin)) {
      headers[ALLOW_ORIGIN] = this.anyOrigin ? '*' : origin;
      if (this.credentials) headers[ALLOW_CREDENTIALS] = 'true';
      headers['access-control-allow-methods'] = this.allowMethods;
      const allowHeaders = this.allowHeaders ?? ex.req.headers['access-control-request-headers'];
      if (allowHeaders) headers['access-control-allow-headers'] = allowHeaders;
      if (this.maxAge !== undefined) headers['access-control-max-age'] = this.maxAge;
    }
    ex.reason = 'cors_preflight';
    return { status: 204, headers, body: EMPTY_BODY, source: 'gateway' };
  }

  /** Adds the CORS headers of an actual (non-preflight) answer to `headers`, in place. */
  decorate(headers: ReplyHeaders, origin: string | undefined): void {
    let allowed: string | undefined;
    if (this.anyOrigin) allowed = '*';
    else {
      appendVary(headers, 'Origin');
      if (origin !== undefined && this.origins.matches(origin)) allowed = origin;
    }
    if (allowed === undefined) {
      for (const name of OWNED_HEADERS) if (headers[name] !== undefined) delete headers[name];
      return;
    }
    headers[ALLOW_ORIGIN] = allowed;
    setOrRemove(headers, ALLOW_CREDENTIALS, this.credentials ? 'true' : undefined);
    setOrRemove(headers, EXPOSE_HEADERS, this.exposeHeaders);
  }
}

function setOrRemove(headers: ReplyHeaders, name: string, value: string | undefined): void {
  if (value !== undefined) headers[name] = value;
  else if (headers[name] !== undefined) delete headers[name];
}

export const cors: StageFactory<CorsConfig> = {
  kind: 'cors',
  select: (route) => route.cors,
  create(config) {
    const policy = new CorsPolicy(config);
    return async function corsStage(ex, next) {
      const origin = ex.req.headers.origin;
      if (preflightMethod(ex.req.method!, ex.req.headers) !== undefined) return policy.preflight(ex, origin!);
      const reply = await settle(next, ex);
      policy.decorate(reply.headers, origin);
      return reply;
    };
  },
};

/**
 * @module pipeline/refusal-headers
 * The edge headers of answers written before any route matched (404 NO_ROUTE, 400, 431, 503
 * event-loop shedding): those never pass a route's chain, so the server defaults of
 * `securityHeaders` and `cors` are applied here instead, built once per config. A browser
 * script on an allowed origin can then read a 404 like any other error. (The other edge
 * policies are about a route's traffic and stay out of refusals.)
 */
import type { IncomingMessage } from 'node:http';
import type { ServerConfig } from '../config/types';
import type { TrustCheck } from '../http/trust-proxy';
import { CorsPolicy } from '../policies/cors';
import { isEncrypted, isHttpsProto, SecurityHeaders } from '../policies/security-headers';
import type { ReplyHeaders } from './stage';

/** Headers to add to a refusal of `req`. */
export type RefusalHeaders = (req: IncomingMessage) => ReplyHeaders;

/** undefined when the server sets neither default, so a refusal costs nothing extra. */
export function compileRefusalHeaders(server: ServerConfig, trust: TrustCheck): RefusalHeaders | undefined {
  const security = server.securityHeaders && new SecurityHeaders(server.securityHeaders);
  const cors = server.cors && new CorsPolicy(server.cors);
  if (security === undefined && cors === undefined) return undefined;
  const wantsHttps = security?.hsts !== undefined;
  return (req) => {
    const headers: ReplyHeaders = {};
    if (security) {
      // As http/headers.ts decides for the upstream: X-Forwarded-Proto only from a trusted proxy.
      const https =
        wantsHttps &&
        (isEncrypted(req) ||
          (trust(req.socket.remoteAddress) && isHttpsProto(req.headers['x-forwarded-proto'])));
      security.apply(headers, https);
    }
    cors?.decorate(headers, req.headers.origin);
    return headers;
  };
}

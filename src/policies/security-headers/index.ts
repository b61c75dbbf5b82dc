/**
 * @module policies/security-headers
 * Pipeline position: right inside `cors`, outside everything else, so every answer of the
 * route gets the headers: the upstream's, the cache's, a fallback and the gateway's own 429 or
 * 503 alike (a 404 before any route matched gets the server default through
 * `pipeline/refusal-headers.ts`). `securityHeaders: true` adds `X-Content-Type-Options: nosniff`,
 * `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer` unless the response already carries
 * its own (an upstream that set one did so on purpose), adds `Strict-Transport-Security` on
 * requests that came over https, and removes `Server` and `X-Powered-By` whoever set them.
 *
 * The gateway itself speaks plain http, so "came over https" means a trusted proxy said so in
 * X-Forwarded-Proto (the value `http/headers.ts` already resolved for the upstream, read once
 * per request) or, should a TLS socket ever terminate here, the socket itself. HSTS sent over
 * plain http is ignored by browsers (RFC 6797 §8.1) and would only mislead a reader.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { settle } from '../../pipeline/settle';
import type { ReplyHeaders, StageFactory } from '../../pipeline/stage';
import type { SecurityHeadersConfig } from './config';

/** One route's (or the server's) security headers, compiled once. */
export class SecurityHeaders {
  private readonly names: readonly string[];
  private readonly values: readonly string[];
  private readonly remove: readonly string[];
  /** The Strict-Transport-Security value; undefined when HSTS is off. */
  readonly hsts: string | undefined;

  constructor(config: SecurityHeadersConfig) {
    this.names = Object.keys(config.headers);
    this.values = Object.values(config.headers);
    this.remove = config.remove;
    this.hsts = config.hsts;
  }

  /** Decorates `headers` in place; `https` says whether the request came over https. */
  apply(headers: ReplyHeaders, https: boolean): void {
    for (const name of this.remove) if (headers[name] !== undefined) delete headers[name];
    const { names, values } = this;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (headers[name] === undefined) headers[name] = values[i]!;
    }
    if (https && this.hsts !== undefined && headers['strict-transport-security'] === undefined)
      headers['strict-transport-security'] = this.hsts;
  }
}

/** Whether an X-Forwarded-Proto value says https (the first hop's, when proxies listed several). */
export function isHttpsProto(value: string | string[] | undefined): boolean {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return false;
  const proto = first.trimStart();
  if (proto.length < 5 || proto.slice(0, 5).toLowerCase() !== 'https') return false;
  const after = proto.charCodeAt(5);
  // "https", "https, http", "https " — never "httpsx".
  return Number.isNaN(after) || after === 0x2c /* , */ || after === 0x20 || after === 0x09;
}

/** Whether the request reached the gateway over TLS (not the case today: it listens on http). */
export function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

/**
 * The X-Forwarded-Proto the upstream is sent says https. `http/headers.ts` appends it near the
 * end of the list, from the client's header only when the peer is a trusted proxy, so a
 * backward scan finds it in a few steps and an untrusted client cannot fake it.
 */
export function forwardedHttps(upstreamHeaders: readonly string[]): boolean {
  for (let i = upstreamHeaders.length - 2; i >= 0; i -= 2) {
    if (upstreamHeaders[i] === 'x-forwarded-proto') return isHttpsProto(upstreamHeaders[i + 1]);
  }
  return false;
}

export const securityHeaders: StageFactory<SecurityHeadersConfig> = {
  kind: 'security-headers',
  select: (route) => route.securityHeaders,
  create(config) {
    const policy = new SecurityHeaders(config);
    const wantsHttps = policy.hsts !== undefined;
    return async function securityHeadersStage(ex, next) {
      // Read before anything below can touch the header list.
      const https = wantsHttps && (isEncrypted(ex.req) || forwardedHttps(ex.upstreamHeaders));
      const reply = await settle(next, ex);
      policy.apply(reply.headers, https);
      return reply;
    };
  },
};

/**
 * @module http/headers
 * Header surgery in both directions: hop-by-hop headers (RFC 9110 §7.6.1 and those named in
 * Connection) removed, X-Forwarded-* and X-Request-Id set, framing ambiguities refused.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ReplyHeaders } from '../pipeline/stage';

/** Never forwarded in either direction. `te` is handled apart: `TE: trailers` may pass. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the gateway rebuilds itself (or that undici refuses, like expect). */
const REBUILT_REQUEST_HEADERS = new Set([
  'host',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
]);

/**
 * Forwarding headers only a trusted proxy may set: from anyone else they are dropped, since
 * applications believe them (client address, scheme, public prefix). X-Forwarded-For/-Proto/-Host
 * are rebuilt above whatever the peer is.
 */
const PROXY_ONLY_REQUEST_HEADERS = new Set([
  'forwarded',
  'x-real-ip',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-original-forwarded-for',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
]);

const SANE_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{1,128}$/;

/** The incoming X-Request-Id when it is a sane token, else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * RFC 9112 §3.2 / RFC 3986 §3.2.2: `uri-host [":" port]` (an IP literal, or a reg-name of
 * unreserved, sub-delims and escapes; no userinfo, path or spaces). Anything else is a 400: a
 * Host such as `a.example/evil` would otherwise reach the upstream (links, caches), and one undici
 * refuses (`[::1`) would turn a client's mistake into a 502 counted against the target.
 */
const VALID_HOST = /^(?:\[[0-9A-Za-z:.%_~-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** Whether a Host value (after absolute-form adoption) is well formed; absent (HTTP/1.0) is fine. */
export function isValidHost(host: string | undefined): boolean {
  return host === undefined || (host.length <= 1024 && VALID_HOST.test(host));
}

/** Why a request's framing or headers make it unsafe to forward, or undefined when fine. */
export function framingProblem(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  let hosts = 0;
  let lengths = 0;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 14 && name.toLowerCase() === 'content-length') lengths++;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
  }
  if (hosts > 1) return 'duplicate Host header';
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is invalid (HTTP/1.0 may omit it).
  if (hosts === 0 && req.httpVersionMinor >= 1) return 'missing Host header';
  if (lengths > 1) return 'duplicate Content-Length header';
  if (lengths > 0 && chunked) return 'both Content-Length and Transfer-Encoding';
  return undefined;
}

export interface ForwardedFor {
  /** Whether the direct peer is a trusted proxy, whose X-Forwarded-* values are kept. */
  readonly trusted: boolean;
  /** Host header to send, or undefined to let the client library use the target's. */
  readonly host: string | undefined;
  readonly reqId: string;
}

/** Flat [name, value, …] list for the upstream request. */
export function upstreamRequestHeaders(req: IncomingMessage, fwd: ForwardedFor): string[] {
  const raw = req.rawHeaders;
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  if (fwd.host !== undefined) out.push('host', fwd.host);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REBUILT_REQUEST_HEADERS.has(lower) || named?.has(lower)) {
      if (lower === 'te' && raw[i + 1]!.trim().toLowerCase() === 'trailers') out.push(name, 'trailers');
      continue;
    }
    if (!fwd.trusted && PROXY_ONLY_REQUEST_HEADERS.has(lower)) continue;
    // CGI-style servers (PHP, WSGI, Rack) read `X_Forwarded_For` as X-Forwarded-For: an alias of
    // a header the gateway rebuilds or guards never passes (nginx drops `_` names by default).
    if (lower.includes('_') && isForwardingAlias(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  appendForwarded(out, req, fwd);
  out.push('x-request-id', fwd.reqId);
  return out;
}

function isForwardingAlias(lower: string): boolean {
  const dashed = lower.replace(/_/g, '-');
  return REBUILT_REQUEST_HEADERS.has(dashed) || PROXY_ONLY_REQUEST_HEADERS.has(dashed);
}

function appendForwarded(out: string[], req: IncomingMessage, fwd: ForwardedFor): void {
  const remote = req.socket.remoteAddress ?? '';
  const peer = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
  const h = req.headers;
  const priorFor = fwd.trusted ? h['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', priorFor ? `${priorFor}, ${peer}` : peer);
  const proto = fwd.trusted ? firstValue(h['x-forwarded-proto']) : undefined;
  out.push('x-forwarded-proto', proto ?? 'http');
  const host = fwd.trusted ? firstValue(h['x-forwarded-host']) : undefined;
  const clientHost = host ?? h.host;
  if (clientHost) out.push('x-forwarded-host', clientHost);
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Lower-cased header names listed in a Connection header (other than keep-alive/close). */
function connectionTokens(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(lower.split(',').map((t) => t.trim()));
}

/** Response headers from the upstream minus hop-by-hop ones, with X-Request-Id added. */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  reqId: string,
): ReplyHeaders {
  const connection = upstream.connection;
  const named = typeof connection === 'string' ? connectionTokens(connection) : undefined;
  const out: ReplyHeaders = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  out['x-request-id'] = reqId;
  return out;
}

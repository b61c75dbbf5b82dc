/**
 * @module http/error-reply
 * The one place a GatewayError becomes bytes: the JSON body of DESIGN.md, Retry-After on
 * 429/503, X-Request-Id. Nothing internal (stack, address, upstream text) is ever written.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors';
import type { ReplyHeaders } from '../pipeline/stage';

/** The JSON body for an error, as bytes. */
export function errorBody(err: GatewayError, reqId: string): Buffer {
  const error: Record<string, unknown> = { code: err.code, message: err.message, requestId: reqId };
  if (err.details) Object.assign(error, err.details);
  if (err.retryAfterSeconds !== undefined) error.retryAfter = err.retryAfterSeconds;
  return Buffer.from(JSON.stringify({ error }));
}

/** Headers for an error response; `close` asks the client to open a new connection. */
export function errorHeaders(
  err: GatewayError,
  reqId: string,
  bodyLength: number,
  close: boolean,
): ReplyHeaders {
  const headers: ReplyHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(bodyLength),
    'cache-control': 'no-store',
    'x-request-id': reqId,
  };
  if (err.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
  else if (err.status === 429 || err.status === 503) headers['retry-after'] = '1';
  if (close) headers.connection = 'close';
  return headers;
}

/**
 * Writes a complete error response; returns the body size for the access line. `extra` adds
 * headers (the server-default edge headers of a refusal: pipeline/refusal-headers.ts).
 */
export function writeErrorReply(
  res: ServerResponse,
  err: GatewayError,
  reqId: string,
  close = false,
  extra?: ReplyHeaders,
): number {
  const body = errorBody(err, reqId);
  const headers = errorHeaders(err, reqId, body.length, close);
  res.writeHead(err.status, extra ? Object.assign(headers, extra) : headers);
  res.end(body);
  return body.length;
}

/** The raw HTTP/1.1 bytes of an error response, for sockets that have no ServerResponse. */
export function rawErrorResponse(err: GatewayError, reqId: string): string {
  const body = errorBody(err, reqId);
  const headers = errorHeaders(err, reqId, body.length, true);
  let head = `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}\r\n`;
  for (const name in headers) head += `${name}: ${String(headers[name])}\r\n`;
  return `${head}\r\n${body.toString()}`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

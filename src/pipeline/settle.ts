/**
 * @module pipeline/settle
 * Errors become Replies inside the chain (fastify's error handler, Envoy's local replies that
 * still pass the response filters): a stage that decorates or replaces outcomes (rate-limit
 * headers, Cache-Status, stale-if-error, static fallback) calls `settle` and sees one Reply
 * whatever happened below; the request handler settles whatever is left. Stages below the
 * cache (retry, breaker, forward) keep throwing typed errors, which they branch on.
 */
import { isGatewayError, UpstreamUnavailableError, type GatewayError } from '../errors';
import { errorBody, errorHeaders } from '../http/error-reply';
import type { Exchange } from './exchange';
import type { Next, Reply } from './stage';
import { StaticBody } from './static-body';

/** The gateway's own answer for `err`, as a Reply with source 'error' carrying the error. */
export function errorReply(ex: Exchange, err: unknown): Reply {
  const error = asGatewayError(ex, err);
  ex.reason ||= reasonOf(error);
  const body = errorBody(error, ex.reqId);
  // An unread request body would otherwise be drained from the socket to keep it alive.
  const headers = errorHeaders(error, ex.reqId, body.length, !ex.req.complete);
  return { status: error.status, headers, body: new StaticBody(body), source: 'error', error };
}

/** `next(ex)` with a thrown error turned into its error Reply. */
export function settle(next: Next, ex: Exchange): Promise<Reply> {
  return next(ex).then(undefined, (err: unknown) => errorReply(ex, err));
}

/** The one-word access-line reason of a gateway error. */
export function reasonOf(err: GatewayError): string {
  if (err instanceof UpstreamUnavailableError) return err.kind;
  return err.code.toLowerCase();
}

function asGatewayError(ex: Exchange, err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  // A bug, not an answer: the request handler logs it with its stack when the exchange ends.
  ex.reason = 'internal_error';
  ex.internalError = err;
  return new UpstreamUnavailableError('other', { cause: err });
}

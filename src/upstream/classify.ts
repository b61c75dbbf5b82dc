/**
 * @module upstream/classify
 * Turns what undici or the socket threw into the gateway's failure kinds, so retries, breakers,
 * outlier detection, metrics and the 502/504 answer all agree on what happened.
 */
import { UpstreamUnavailableError, isGatewayError, type FailureKind, type GatewayError } from '../errors';
import type { Outcome } from '../observability/metrics';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

/** The failure kind of a transport error. */
export function failureKindOf(err: unknown): FailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (CONNECT_CODES.has(code)) return 'connect_error';
    if (RESET_CODES.has(code)) return 'reset';
    if (
      code.startsWith('HPE_') ||
      code === 'UND_ERR_INFO' ||
      code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
    ) {
      return 'invalid_response';
    }
  }
  return 'other';
}

/** A gateway error for a transport failure; gateway errors (timeout, body too large) pass through. */
export function toGatewayError(err: unknown, requestSent: boolean): GatewayError {
  if (isGatewayError(err)) return err;
  const kind = failureKindOf(err);
  return new UpstreamUnavailableError(kind === 'other' ? 'reset' : kind, {
    cause: err,
    requestSent: kind === 'connect_error' ? false : requestSent,
  });
}

/** The metric outcome label for an attempt that failed with `err`. */
export function outcomeOfError(err: GatewayError): Outcome {
  if (err.code === 'UPSTREAM_TIMEOUT') return 'timeout';
  if (err.code === 'CIRCUIT_OPEN') return 'circuit_open';
  if (err instanceof UpstreamUnavailableError && err.kind === 'connect_error') return 'connect_error';
  return 'reset';
}

/** The metric outcome label for an upstream response status. */
export function outcomeOfStatus(status: number): Outcome {
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'success';
}

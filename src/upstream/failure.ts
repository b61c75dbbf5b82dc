/**
 * @module upstream/failure
 * The one definition of "the upstream failed" that retries, circuit breakers and outlier
 * detection share (cockatiel's handleWhenResult): a connect error, reset, invalid response or
 * timeout, or a response status in the upstream's `failureStatuses` (default 500-599; 4xx never).
 */
import { isGatewayError } from '../errors';
import type { StatusRange } from '../config/types';

export function isFailureStatus(status: number, ranges: readonly StatusRange[]): boolean {
  for (const range of ranges) if (status >= range.from && status <= range.to) return true;
  return false;
}

/**
 * Whether an error thrown by the chain below counts against the upstream. Errors that are the
 * gateway's own decision (circuit open, overloaded, no healthy target) or the client's doing
 * (body too large, client gone) do not.
 */
export function isFailureError(err: unknown): boolean {
  if (!isGatewayError(err)) return true;
  return err.code === 'UPSTREAM_UNAVAILABLE' || err.code === 'UPSTREAM_TIMEOUT';
}

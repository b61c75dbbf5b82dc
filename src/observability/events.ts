/**
 * @module observability/events
 * What the request path reports, as typed calls. Policies and the forwarder call these and
 * never import prom-client; `wire.ts` implements them with metrics. Typed methods rather than
 * a string-keyed EventEmitter: no event object allocated per call, and the compiler checks them.
 */
import type { Outcome } from './metrics';

export interface GatewayEvents {
  /** One upstream attempt finished its header phase (or failed). */
  attemptDone(upstream: string, target: string, outcome: Outcome, seconds: number): void;
}

/** What the HTTP server reports about client requests. */
export interface RequestEvents {
  requestStarted(route: string): void;
  requestFinished(route: string, method: string, status: number, seconds: number, routed: boolean): void;
  /** Refused before routing: malformed, over a limit or timed out while being received. */
  requestRejected(status: number): void;
}

/**
 * @module policies/fault
 * Pipeline position: between the cache and the bulkhead, so an injected fault looks like an
 * upstream failure to everything above it (the stale cache's stale-if-error, the static
 * fallback's `5xx`, the rate-limit and CORS headers) and never holds a bulkhead slot, retries
 * or breaker counts (they sit below: a drill exercises the protections, it does not trip them).
 * `fault: { delay: { duration, percent }, abort: { status, percent } }`, Envoy's fault filter:
 * each request is delayed with probability `delay.percent` (capped at what is left of the route
 * timeout, so a long delay ends in the usual 504), then aborted with probability
 * `abort.percent`. An abort is answered as if the upstream had: a Reply with source 'upstream',
 * the status, `Cache-Control: no-store`, Retry-After on 503 and 429, and the JSON body
 * `{"error":{"code":"FAULT_INJECTED","message":…,"requestId":…}}`. Each injection is counted as
 * `breakwater_faults_injected_total{route,kind}` and named in the access line's reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientGoneError } from '../../errors';
import type { Exchange } from '../../pipeline/exchange';
import type { Reply, ReplyHeaders, StageFactory } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';
import type { FaultConfig } from './config';

const MESSAGE = 'Fault injected by the gateway (fault policy)';

export const fault: StageFactory<FaultConfig> = {
  kind: 'fault',
  select: (route) => route.fault,
  create({ delay, abort }, { events }, ctx) {
    const route = ctx.route;
    return async function faultStage(ex, next) {
      if (delay !== undefined && Math.random() * 100 < delay.percent) {
        const waitMs = Math.min(delay.ms, ex.deadlineAt - performance.now());
        if (waitMs > 0) await sleep(waitMs);
        events.faultInjected(route, 'delay');
        ex.reason ||= 'fault_delay';
        if (ex.clientGone) throw new ClientGoneError();
      }
      if (abort !== undefined && Math.random() * 100 < abort.percent) {
        events.faultInjected(route, 'abort');
        ex.reason = 'fault_abort';
        return abortReply(ex, abort.status);
      }
      return next(ex);
    };
  },
};

/** The injected failure, shaped like an upstream's error answer. */
export function abortReply(ex: Exchange, status: number): Reply {
  const body = Buffer.from(
    JSON.stringify({ error: { code: 'FAULT_INJECTED', message: MESSAGE, requestId: ex.reqId } }),
  );
  const headers: ReplyHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-request-id': ex.reqId,
  };
  if (status === 503 || status === 429) headers['retry-after'] = '1';
  // An unread request body would otherwise be drained from the socket to keep it alive.
  if (ex.hasBody && !ex.req.complete) headers.connection = 'close';
  return { status, headers, body: new StaticBody(body), source: 'upstream' };
}

/**
 * @module policies/fallback
 * Pipeline position: outermost policy, so it sees the final outcome after retries, the breaker
 * and (later) the stale cache. Replaces the gateway's own error with the route's static
 * `fallback` response when the failure is one of `fallback.on` (default: circuit-open,
 * no-healthy-upstream, overloaded, timeout, unavailable; add `5xx` to also replace upstream
 * 5xx responses).
 */
import { isGatewayError, type ErrorCode } from '../../errors';
import type { FallbackTrigger } from '../../config/types';
import type { StageFactory } from '../../pipeline/build';
import type { Exchange } from '../../pipeline/exchange';
import type { Reply, ReplyHeaders } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';

const TRIGGER_OF_ERROR: Partial<Record<ErrorCode, FallbackTrigger>> = {
  CIRCUIT_OPEN: 'circuit-open',
  NO_HEALTHY_UPSTREAM: 'no-healthy-upstream',
  OVERLOADED: 'overloaded',
  UPSTREAM_TIMEOUT: 'timeout',
  UPSTREAM_UNAVAILABLE: 'unavailable',
};

export const fallback: StageFactory = {
  kind: 'fallback',
  create(route, _upstream, { events }) {
    const config = route.fallback;
    if (!config) return undefined;
    const on = new Set<FallbackTrigger>(config.on);
    const replaces5xx = on.has('5xx');
    const body = new StaticBody(Buffer.from(config.body));
    const headers: ReplyHeaders = { ...config.headers, 'content-length': String(body.length) };
    // Every 503 the gateway makes says when to come back (DESIGN.md "Retry-After").
    if (config.status === 503 && headers['retry-after'] === undefined) headers['retry-after'] = '1';
    const routeName = route.name;
    const serve = (ex: Exchange, trigger: FallbackTrigger): Reply => {
      events.fallback(routeName, trigger);
      ex.reason = `fallback_${trigger.replace(/-/g, '_')}`;
      return {
        status: config.status,
        headers: { ...headers, 'x-request-id': ex.reqId },
        body,
        source: 'fallback',
      };
    };
    return async (ex, next) => {
      let reply: Reply;
      try {
        reply = await next(ex);
      } catch (err) {
        const trigger = isGatewayError(err) ? TRIGGER_OF_ERROR[err.code] : undefined;
        if (trigger === undefined || !on.has(trigger) || ex.clientGone) throw err;
        return serve(ex, trigger);
      }
      if (replaces5xx && reply.status >= 500 && reply.source === 'upstream') {
        reply.body.discard();
        return serve(ex, '5xx');
      }
      return reply;
    };
  },
};

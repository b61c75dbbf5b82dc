/**
 * @module policies/fallback
 * Pipeline position: after the rate limit, outside the cache, so it sees the final outcome
 * after retries, the breaker and the stale cache (stale beats static). Replaces the gateway's own error with the route's static
 * `fallback` response when the failure is one of `fallback.on` (default: circuit-open,
 * no-healthy-upstream, overloaded, timeout, unavailable; add `5xx` to also replace upstream
 * 5xx responses).
 */
import type { ErrorCode } from '../../errors';
import type { FallbackConfig, FallbackTrigger } from '../../config/types';
import type { Exchange } from '../../pipeline/exchange';
import { settle } from '../../pipeline/settle';
import type { Reply, ReplyHeaders, StageFactory } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';

const TRIGGER_OF_ERROR: Partial<Record<ErrorCode, FallbackTrigger>> = {
  CIRCUIT_OPEN: 'circuit-open',
  NO_HEALTHY_UPSTREAM: 'no-healthy-upstream',
  OVERLOADED: 'overloaded',
  UPSTREAM_TIMEOUT: 'timeout',
  UPSTREAM_UNAVAILABLE: 'unavailable',
};

export const fallback: StageFactory<FallbackConfig> = {
  kind: 'fallback',
  select: (route) => route.fallback,
  create(config, { events }, { route: routeName }) {
    const on = new Set<FallbackTrigger>(config.on);
    const replaces5xx = on.has('5xx');
    const body = new StaticBody(Buffer.from(config.body));
    const headers: ReplyHeaders = { ...config.headers, 'content-length': String(body.length) };
    // Every 503 the gateway makes says when to come back (DESIGN.md "Retry-After").
    if (config.status === 503 && headers['retry-after'] === undefined) headers['retry-after'] = '1';
    const serve = (ex: Exchange, trigger: FallbackTrigger, replaced: Reply): Reply => {
      events.fallback(routeName, trigger);
      ex.reason = `fallback_${trigger.replace(/-/g, '_')}`;
      const out: ReplyHeaders = { ...headers, 'x-request-id': ex.reqId };
      // The cache said how it answered (RFC 9211 on every response of a cached route): keep it.
      const cacheStatus = replaced.headers['cache-status'];
      if (cacheStatus !== undefined) out['cache-status'] = cacheStatus;
      return {
        status: config.status,
        headers: out,
        body,
        source: 'fallback',
        error: replaced.error,
      };
    };
    return async (ex, next) => {
      const reply = await settle(next, ex);
      if (ex.clientGone) return reply;
      if (reply.source === 'error') {
        const trigger = TRIGGER_OF_ERROR[reply.error!.code];
        return trigger !== undefined && on.has(trigger) ? serve(ex, trigger, reply) : reply;
      }
      if (replaces5xx && reply.status >= 500 && reply.source === 'upstream') {
        reply.body.discard();
        return serve(ex, '5xx', reply);
      }
      return reply;
    };
  },
};

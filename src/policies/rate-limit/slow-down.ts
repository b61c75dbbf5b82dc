/**
 * @module policies/rate-limit/slow-down
 * Pipeline position: right after the rate limit (a delayed request has already been counted
 * there), before the cache. `slowDown: { key, after, delay, maxDelay, window }`: past `after`
 * requests in the window for a key, request n waits min(maxDelay, (n - after) × delay) before
 * going on: a progressive brake before the hard limit, like express-slow-down.
 * The wait never runs past the route deadline (the request then times out below as usual), and
 * a client that left during it is not forwarded. Counts use the same backends as the rate limit
 * (memory, the cluster primary, or Redis), so `after` holds across workers and replicas.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SlowDownConfig } from '../../config/types';
import { ClientGoneError } from '../../errors';
import type { StageFactory } from '../../pipeline/stage';
import { keepCounter, windowSeconds } from './counter';
import { compileKey, keyLabel } from './key';

/** Never refuses: the counter only measures how far past `after` a key is. */
const UNLIMITED_POINTS = 2 ** 31 - 1;

export const slowDown: StageFactory<SlowDownConfig> = {
  kind: 'slow-down',
  select: (route) => route.slowDown,
  create(config, deps, ctx) {
    // checks.ts rejects it; consumer tiers are a rate-limit notion.
    if (config.key.kind === 'consumer')
      throw new Error(`route ${ctx.route}: slowDown cannot count by consumer`);
    const label = keyLabel(config.key);
    const spec = {
      id: `${ctx.route}:slow-down:${label}`,
      points: UNLIMITED_POINTS,
      windowSeconds: windowSeconds(config.windowMs),
    };
    const counter = keepCounter(spec, deps);
    const keyOf = compileKey(config.key);
    const { after, delayMs, maxDelayMs } = config;
    const { events } = deps;
    const route = ctx.route;
    return async function slowDownStage(ex, next) {
      const { consumed } = await counter.consume(keyOf(ex));
      const excess = consumed - after;
      if (excess <= 0) return next(ex);
      const waitMs = Math.min(maxDelayMs, excess * delayMs, ex.deadlineAt - performance.now());
      if (waitMs > 0) {
        await sleep(waitMs);
        events.slowedDown(route, waitMs / 1000);
      }
      if (ex.clientGone) throw new ClientGoneError();
      return next(ex);
    };
  },
};

/**
 * @module policies/rate-limit
 * Pipeline position: outermost policy (cheapest refusal first), then `slowDown` right after it.
 * Counts each request against the route's `rateLimit` rules, in order; every rule whose
 * `methods` match must pass. The first enforced rule that refuses ends the check, so a refused
 * request spends no points of the rules after it (and never of rules whose methods don't match).
 * A refusal is a 429 Reply built here (no throw), with Retry-After, `error.retryAfter` and, for
 * consumer tiers, `error.tier`/`error.upgrade`. A `mode: shadow` rule counts, reports
 * `rate_limited_total{mode="shadow"}` and logs the first overage of each key per window, but
 * never refuses and sends no headers (clients must not back off from a limit not enforced).
 * Passing answers, the upstream's or an error from below, get the headers of the enforced rule
 * with the least remaining (rules with `headers: none` opt out), and, when an enforced
 * `key: consumer` rule that sends headers counted the request, the tier's name (headers.ts).
 *
 * Keys: see key.ts (`ip`, `route`, `header:<name>`: a request without the header is counted by
 * client IP as `header-missing:<ip>`) and consumers.ts (`consumer`). Backends: counter.ts.
 */
import type { ConsumersConfig, RateLimitRule, TierConfig } from '../../config/types';
import { RateLimitedError } from '../../errors';
import type { GatewayEvents } from '../../observability/events';
import type { Logger } from '../../observability/logger';
import type { Exchange } from '../../pipeline/exchange';
import { errorReply, settle } from '../../pipeline/settle';
import type { Reply, Stage, StageFactory } from '../../pipeline/stage';
import { compileRules, type Quota, type Rule } from './rules';

export { slowDown } from './slow-down';
export { keySharingFactory } from './key-sharing';

/** The outcome of one rule for one request. */
interface Hit {
  readonly quota: Quota;
  readonly allowed: boolean;
  readonly consumed: number;
  /** What the headers say is left of the nominal limit. */
  readonly remaining: number;
  /** Seconds until the window resets (Retry-After when refused). */
  readonly resetSeconds: number;
  readonly msBeforeNext: number;
}

/**
 * The rate-limit stage factory. Consumers and tiers live at the top of gateway.yaml, not on the
 * route, so the builder passes them in; `log` receives the shadow-mode lines.
 */
export function rateLimitFactory(
  consumers: ConsumersConfig | undefined,
  tiers: Readonly<Record<string, TierConfig>>,
  log?: Logger,
): StageFactory<readonly RateLimitRule[]> {
  return {
    kind: 'rate-limit',
    select: (route) => (route.rateLimit.length > 0 ? route.rateLimit : undefined),
    create(rules, deps, ctx) {
      const compiled = compileRules(rules, { deps, ctx, consumers, tiers });
      return rateLimitStage(compiled, ctx.route, deps.events, log);
    },
  };
}

function rateLimitStage(
  rules: readonly Rule[],
  route: string,
  events: GatewayEvents,
  log: Logger | undefined,
): Stage {
  return async function rateLimit(ex, next) {
    let shown: Hit | undefined;
    // The first enforced consumer limit that tells its headers also tells the tier.
    let tierOf: Quota | undefined;
    for (const rule of rules) {
      if (rule.methods !== undefined && !rule.methods.has(ex.req.method ?? '')) continue;
      const hit = await take(rule, ex);
      if (rule.shadow) {
        if (!hit.allowed) overShadowLimit(ex, rule, hit, route, events, log);
        continue;
      }
      if (tierOf === undefined && hit.quota.writeTier) tierOf = hit.quota;
      if (!hit.allowed) return refuse(ex, hit, tierOf, route, events);
      if (hit.quota.writeHeaders && (shown === undefined || hit.remaining < shown.remaining)) shown = hit;
    }
    const reply = await settle(next, ex);
    if (shown)
      shown.quota.writeHeaders!(reply.headers, shown.remaining, shown.resetSeconds, shown.msBeforeNext);
    tierOf?.writeTier!(reply.headers);
    return reply;
  };
}

async function take(rule: Rule, ex: Exchange): Promise<Hit> {
  const { tier: quota, key } = rule.pick(ex);
  const { allowed, consumed, msBeforeNext } = await quota.counter.consume(key);
  return {
    quota,
    allowed,
    consumed,
    remaining: allowed ? Math.max(0, quota.limit - consumed) : 0,
    resetSeconds: Math.max(0, Math.ceil(msBeforeNext / 1000)),
    msBeforeNext,
  };
}

function refuse(
  ex: Exchange,
  hit: Hit,
  tierOf: Quota | undefined,
  route: string,
  events: GatewayEvents,
): Reply {
  events.rateLimited(route, hit.quota.tier, 'enforce');
  const retryAfterSeconds = Math.max(1, hit.resetSeconds);
  const reply = errorReply(ex, new RateLimitedError(retryAfterSeconds, hit.quota.details));
  // Overrides a shadow rule's reason set earlier in this request: the refusal is what shaped it.
  ex.reason = 'rate_limited';
  hit.quota.writeHeaders?.(reply.headers, 0, retryAfterSeconds, hit.msBeforeNext);
  tierOf?.writeTier!(reply.headers);
  return reply;
}

function overShadowLimit(
  ex: Exchange,
  rule: Rule,
  hit: Hit,
  route: string,
  events: GatewayEvents,
  log: Logger | undefined,
): void {
  events.rateLimited(route, hit.quota.tier, 'shadow');
  ex.reason ||= 'rate_limit_shadow';
  // One line per key and window (its first overage), not one per request over the limit.
  if (hit.consumed !== hit.quota.counter.points + 1) return;
  log?.info(
    {
      reqId: ex.reqId,
      route,
      stage: 'rate-limit',
      rule: rule.index,
      shared: rule.shared,
      key: rule.label,
      tier: hit.quota.tier || undefined,
      limit: hit.quota.limit,
      windowSeconds: hit.quota.windowSeconds,
      clientIp: ex.clientIp,
    },
    'rate limit exceeded (shadow mode: not refused)',
  );
}

/**
 * @module admin/health
 * What /health, /health/ready and /health/live report, computed from the running route table.
 */
import type { RouteTable } from '../pipeline/route-table';
import type { Upstream } from '../upstream/upstream';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface TargetHealth {
  url: string;
  healthy: boolean;
  ejected: boolean;
  draining: boolean;
  lastCheck: string | null;
  reason: string | null;
}

export interface UpstreamHealth {
  status: HealthStatus;
  inflight: number;
  breakers: Record<string, 'closed' | 'open' | 'half-open'>;
  targets: TargetHealth[];
}

export interface HealthReport {
  status: HealthStatus;
  /** Short hash of the running config. */
  version: string;
  /** ISO time the running config was loaded (start or last successful reload). */
  loadedAt: string;
  uptimeSeconds: number;
  draining: boolean;
  redis: { status: 'up' | 'down' | 'disabled' };
  upstreams: Record<string, UpstreamHealth>;
}

export interface HealthContext {
  readonly table: RouteTable;
  readonly draining: boolean;
  readonly startedAt: number;
  /** ISO time the running config was loaded. */
  readonly loadedAt: string;
  readonly redis: 'up' | 'down' | 'disabled';
}

export function healthReport(ctx: HealthContext): HealthReport {
  const now = performance.now();
  const upstreams: Record<string, UpstreamHealth> = {};
  let anyDown = false;
  let anyDegraded = false;
  for (const upstream of ctx.table.upstreams.values()) {
    const health = upstreamHealth(upstream, now);
    upstreams[upstream.name] = health;
    if (health.status === 'down' && upstream.config.critical) anyDown = true;
    else if (health.status !== 'ok') anyDegraded = true;
  }
  return {
    // Redis down costs shared limits and cache, never traffic: degraded, not down.
    status: anyDown ? 'down' : anyDegraded || ctx.draining || ctx.redis === 'down' ? 'degraded' : 'ok',
    version: ctx.table.version,
    loadedAt: ctx.loadedAt,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    draining: ctx.draining,
    redis: { status: ctx.redis },
    upstreams,
  };
}

function upstreamHealth(upstream: Upstream, now: number): UpstreamHealth {
  const targets = upstream.targets.map<TargetHealth>((t) => ({
    url: t.url,
    healthy: t.healthy,
    ejected: t.ejectedUntil > now,
    draining: t.draining,
    lastCheck: t.lastCheck,
    reason: t.reason,
  }));
  // A target with weight 0 or drained is out of service on purpose (a blue-green standby, a
  // target being retired): it makes nothing degraded. Only in-service targets that are not
  // available (unhealthy, ejected) do; none available at all is down.
  const inService = upstream.targets.filter((t) => t.weight > 0 && !t.draining);
  const available = inService.filter((t) => t.isAvailable(now)).length;
  const status: HealthStatus = available === 0 ? 'down' : available < inService.length ? 'degraded' : 'ok';
  const breakers: UpstreamHealth['breakers'] = {};
  for (const [route, state] of upstream.breakers) breakers[route] = state();
  return { status, inflight: upstream.inflight, breakers, targets };
}

/** Why the gateway is not ready, or an empty list when it is. */
export function notReadyReasons(ctx: HealthContext): string[] {
  if (ctx.draining) return ['draining'];
  const now = performance.now();
  const reasons: string[] = [];
  for (const upstream of ctx.table.upstreams.values()) {
    if (upstream.config.critical && !upstream.hasAvailableTarget(now)) {
      reasons.push(`upstream ${upstream.name} has no healthy target`);
    }
  }
  return reasons;
}

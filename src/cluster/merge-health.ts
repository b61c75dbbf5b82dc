/**
 * @module cluster/merge-health
 * Merges every cluster worker's health into one report (cluster/control.ts asks): a target
 * is healthy only if every worker sees it healthy, in-flight counts add up, the most open
 * breaker wins, and the gateway is ready only when every worker is.
 */
import type { HealthReport, HealthStatus } from '../admin/health';

/** One worker's answer to the `health` op. */
export interface WorkerHealth {
  readonly report: HealthReport;
  readonly notReady: string[];
}

const RANK: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };
const BREAKER_RANK = { closed: 0, 'half-open': 1, open: 2 } as const;

export function mergeHealth(
  answers: readonly WorkerHealth[],
  draining: boolean,
): { report: HealthReport; notReady: string[] } {
  if (answers.length === 0) {
    const report: HealthReport = {
      status: 'down',
      version: '',
      loadedAt: '',
      uptimeSeconds: 0,
      draining,
      redis: { status: 'disabled' },
      upstreams: {},
    };
    return { report, notReady: ['no worker answered'] };
  }
  const [first, ...rest] = answers.map((a) => structuredClone(a.report)) as [HealthReport, ...HealthReport[]];
  for (const other of rest) mergeInto(first, other);
  first.draining ||= draining;
  const notReady = [...new Set(answers.flatMap((a) => a.notReady))];
  return { report: first, notReady };
}

function mergeInto(into: HealthReport, other: HealthReport): void {
  if (RANK[other.status] > RANK[into.status]) into.status = other.status;
  into.draining ||= other.draining;
  if (other.redis.status === 'down') into.redis.status = 'down';
  for (const [name, upstream] of Object.entries(other.upstreams)) {
    const target = into.upstreams[name];
    if (!target) continue;
    if (RANK[upstream.status] > RANK[target.status]) target.status = upstream.status;
    target.inflight += upstream.inflight;
    for (const [route, state] of Object.entries(upstream.breakers)) {
      const mine = target.breakers[route];
      if (!mine || BREAKER_RANK[state] > BREAKER_RANK[mine]) target.breakers[route] = state;
    }
    upstream.targets.forEach((t, i) => {
      const mine = target.targets[i];
      if (!mine) return;
      mine.healthy &&= t.healthy;
      mine.ejected ||= t.ejected;
      mine.draining ||= t.draining;
      mine.reason ??= t.reason;
    });
  }
}

/**
 * @module upstream/balancer
 * Picks the target for the next attempt. Unavailable targets (unhealthy, ejected, draining,
 * weight 0) are skipped.
 */
import type { Target } from './target';

export type Balancer = (
  targets: readonly Target[],
  now: number,
  avoid: Target | undefined,
) => Target | undefined;

/**
 * Smooth weighted round-robin (nginx): each pick adds every weight to its target's current
 * weight and takes the largest, so weights 5:1:1 interleave as a a b a c a a rather than
 * bursting. `avoid` (the target that just failed) is passed over when another is available.
 */
export const roundRobin: Balancer = (targets, now, avoid) => {
  if (targets.length === 1) {
    const only = targets[0]!;
    return only.isAvailable(now) ? only : undefined;
  }
  let best: Target | undefined;
  let total = 0;
  for (const target of targets) {
    if (!target.isAvailable(now) || (target === avoid && hasOtherAvailable(targets, now, avoid))) continue;
    target.currentWeight += target.weight;
    total += target.weight;
    if (!best || target.currentWeight > best.currentWeight) best = target;
  }
  if (best) best.currentWeight -= total;
  return best;
};

function hasOtherAvailable(targets: readonly Target[], now: number, avoid: Target): boolean {
  return targets.some((t) => t !== avoid && t.isAvailable(now));
}

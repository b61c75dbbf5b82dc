/**
 * @module upstream/balancer
 * Picks the target for the next attempt among the available ones (healthy, not ejected, not
 * draining, weight > 0). `avoid` (the target of the attempt that just failed) is passed over
 * when another target is available, so a retry goes elsewhere.
 */
import type { BalanceAlgorithm } from '../config/types';
import type { Target } from './target';

export type Balancer = (candidates: readonly Target[]) => Target;

/**
 * Smooth weighted round-robin (nginx): each pick adds every weight to its target's current
 * weight and takes the largest, so weights 5:1:1 interleave as a a b a c a a, not in bursts.
 */
export const roundRobin: Balancer = (candidates) => {
  let best = candidates[0]!;
  let total = 0;
  for (const target of candidates) {
    target.currentWeight += target.weight;
    total += target.weight;
    if (target.currentWeight > best.currentWeight) best = target;
  }
  best.currentWeight -= total;
  return best;
};

/** Weighted random. */
export const random: Balancer = (candidates) => {
  let total = 0;
  for (const target of candidates) total += target.weight;
  let point = Math.random() * total;
  for (const target of candidates) {
    point -= target.weight;
    if (point < 0) return target;
  }
  return candidates[candidates.length - 1]!;
};

/**
 * Power of two choices (Envoy's least_request): two weighted-random picks, keep the one with
 * fewer requests in flight relative to its weight. Near-optimal without scanning every target.
 */
export const leastRequest: Balancer = (candidates) => {
  const a = random(candidates);
  const b = random(candidates);
  return a.inflight / a.weight <= b.inflight / b.weight ? a : b;
};

export const BALANCERS: Record<BalanceAlgorithm, Balancer> = {
  round_robin: roundRobin,
  random,
  least_request: leastRequest,
};

/**
 * The target for the next attempt: among available targets, without `avoid` when possible.
 * With `failOpen`, when none is available every target with weight > 0 is a candidate.
 */
export function pickTarget(
  targets: readonly Target[],
  balance: Balancer,
  now: number,
  avoid: Target | undefined,
  failOpen: boolean,
): Target | undefined {
  if (targets.length === 1) {
    const only = targets[0]!;
    return only.isAvailable(now) || (failOpen && only.weight > 0 && !only.draining) ? only : undefined;
  }
  let candidates = targets.filter((t) => t !== avoid && t.isAvailable(now));
  if (candidates.length === 0 && avoid?.isAvailable(now)) candidates = [avoid];
  if (candidates.length === 0 && failOpen) candidates = targets.filter((t) => t.weight > 0 && !t.draining);
  return candidates.length === 0 ? undefined : balance(candidates);
}

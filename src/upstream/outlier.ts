/**
 * @module upstream/outlier
 * Passive health (Envoy's outlier detection): forward.ts reports every attempt through
 * `upstream.recordOutcome`, and a target that fails `consecutiveFailures` times in a row (the
 * shared failure predicate: connect error, reset, timeout, a `failureStatuses` status) is
 * ejected: the balancer skips it until `target.ejectedUntil`. A timer brings it back (reason
 * cleared, gauge back to 1) without needing traffic to notice.
 *
 * Rules, where Envoy leaves a choice:
 * - Ejection time doubles with each repeat: `min(maxEjectFor, ejectFor × 2^(level-1))`. The level
 *   falls by one for every stretch the target stays in service as long as the ejection of that
 *   level (with ejectFor 30s: in service 60s after a 60s ejection, the next one is 60s again rather
 *   than 120s; after 90s, 30s). Computed lazily at the next ejection, so no timer runs for it.
 * - At most `floor(targets × maxEjectedPercent / 100)` targets are out at once, but at least one
 *   when the upstream has two or more targets (Envoy always allows one). A lone target is only
 *   ejected with `maxEjectedPercent: 100`: ejecting it turns every request into a 503
 *   NO_HEALTHY_UPSTREAM, which the operator has to ask for. A failure over the limit is not
 *   forgotten: the target is ejected on its next failure once another target is back.
 * - Outcomes reported while a target is ejected (requests sent before the ejection, or failOpen
 *   traffic) are ignored; after recovery the failure count starts from zero.
 */
import type { OutlierDetectionConfig } from '../config/types';
import type { GatewayEvents } from '../observability/events';
import { publishTargetState } from './health-check';
import type { Target } from './target';
import type { Upstream } from './upstream';

export interface OutlierDetector {
  /** One attempt's result; `now` is performance.now() when it finished. */
  record(target: Target, failed: boolean, now: number): void;
  /** Cancels pending recoveries; records after this are ignored (the upstream was retired). */
  stop(): void;
}

interface OutlierState {
  /** Failures in a row since the last success or recovery. */
  failures: number;
  /** Ejection level: how many recent ejections the next duration doubles for. */
  level: number;
  /** performance.now() when the last ejection ended. */
  returnedAt: number;
  /** Pending recovery; set exactly while the target is ejected. */
  timer: NodeJS.Timeout | undefined;
}

type Durations = Pick<OutlierDetectionConfig, 'ejectForMs' | 'maxEjectForMs'>;

/** How long the `level`-th ejection in a row lasts (level ≥ 1). */
export function ejectionMs(config: Durations, level: number): number {
  return Math.min(config.maxEjectForMs, config.ejectForMs * 2 ** (level - 1));
}

/** How many of `targetCount` targets may be ejected at once (see the module notes). */
export function maxEjected(targetCount: number, maxEjectedPercent: number): number {
  const limit = Math.floor((targetCount * maxEjectedPercent) / 100);
  return limit === 0 && targetCount > 1 && maxEjectedPercent > 0 ? 1 : limit;
}

/** Lowers `state.level` by one per stretch in service as long as that level's ejection. */
export function decayLevel(
  state: Pick<OutlierState, 'level' | 'returnedAt'>,
  config: Durations,
  now: number,
): void {
  let inServiceMs = now - state.returnedAt;
  while (state.level > 0) {
    const stepMs = ejectionMs(config, state.level);
    if (inServiceMs < stepMs) return;
    inServiceMs -= stepMs;
    state.level--;
  }
}

/** Outlier detection for the targets of `upstream`. */
export function createOutlierDetector(
  config: OutlierDetectionConfig,
  upstream: Upstream,
  events: GatewayEvents,
): OutlierDetector {
  const states = new Map<Target, OutlierState>();
  for (const target of upstream.targets)
    states.set(target, { failures: 0, level: 0, returnedAt: -Infinity, timer: undefined });
  const limit = maxEjected(upstream.targets.length, config.maxEjectedPercent);
  let stopped = false;

  function ejectedCount(now: number): number {
    let count = 0;
    for (const target of upstream.targets) if (target.ejectedUntil > now) count++;
    return count;
  }

  function eject(target: Target, state: OutlierState, now: number): void {
    decayLevel(state, config, now);
    // Past the cap the level stops growing, so decay from it takes one max-length stretch.
    if (state.level === 0 || ejectionMs(config, state.level) < config.maxEjectForMs) state.level++;
    const failures = state.failures;
    state.failures = 0;
    target.ejectedUntil = now + ejectionMs(config, state.level);
    events.ejection(upstream.name, target.url);
    publishTargetState(
      events,
      upstream,
      target,
      'ejection',
      `ejected: ${failures} consecutive failures`,
      now,
    );
    armRecovery(target, state);
  }

  function armRecovery(target: Target, state: OutlierState): void {
    const delayMs = Math.max(0, Math.ceil(target.ejectedUntil - performance.now()));
    state.timer = setTimeout(onRecoveryDue, delayMs, target, state);
    state.timer.unref();
  }

  function onRecoveryDue(target: Target, state: OutlierState): void {
    const now = performance.now();
    // Timers may fire a little early against performance.now(); wait out the rest.
    if (target.ejectedUntil > now) armRecovery(target, state);
    else recover(target, state, now);
  }

  function recover(target: Target, state: OutlierState, now: number): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    state.failures = 0;
    state.returnedAt = target.ejectedUntil;
    publishTargetState(events, upstream, target, 'ejection', null, now);
  }

  return {
    record(target, failed, now) {
      const state = states.get(target);
      if (!state || stopped) return;
      if (state.timer) {
        if (target.ejectedUntil > now) return;
        recover(target, state, now); // the traffic got here before the timer did
      }
      if (!failed) {
        state.failures = 0;
        return;
      }
      if (++state.failures < config.consecutiveFailures || ejectedCount(now) >= limit) return;
      eject(target, state, now);
    },
    stop() {
      stopped = true;
      for (const state of states.values()) clearTimeout(state.timer);
    },
  };
}

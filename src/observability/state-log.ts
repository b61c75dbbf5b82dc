/**
 * @module observability/state-log
 * The state-change lines of DESIGN.md "Logs", written from the same events that drive the
 * metrics (observability/wire.ts forwards them here), so policy code never logs state itself:
 * one line per change, `warn` when it hurts (breaker opened, target ejected or failing its
 * health check) and `info` when it heals (half-open trial, closed, restored, healthy again).
 * Redis up/down lines come from state/shared-state.ts, reload and drain lines from the control
 * seam and the gateway's lifecycle.
 */
import type { BreakerState, TargetChangeSource } from './events';
import type { Logger } from './logger';

const BREAKER_MESSAGES: Record<BreakerState, string> = {
  open: 'circuit breaker opened',
  'half-open': 'circuit breaker half-open; letting a trial request through',
  closed: 'circuit breaker closed',
};

/** What wire.ts hands over besides metrics. */
export interface StateListener {
  breakerChanged(upstream: string, route: string, state: BreakerState): void;
  targetChanged(
    upstream: string,
    target: string,
    available: boolean,
    source: TargetChangeSource,
    reason: string | null,
  ): void;
}

export class StateChangeLog implements StateListener {
  constructor(private readonly log: Logger) {}

  breakerChanged(upstream: string, route: string, state: BreakerState): void {
    const fields = { event: 'breaker', upstream, route, state };
    if (state === 'open') this.log.warn(fields, BREAKER_MESSAGES[state]);
    else this.log.info(fields, BREAKER_MESSAGES[state]);
  }

  targetChanged(
    upstream: string,
    target: string,
    available: boolean,
    source: TargetChangeSource,
    reason: string | null,
  ): void {
    const fields = { event: source === 'ejection' ? 'outlier' : 'health_check', upstream, target, available };
    if (source === 'ejection') {
      if (reason) this.log.warn({ ...fields, reason }, 'target ejected');
      else this.log.info(fields, 'target restored after ejection');
    } else if (reason) this.log.warn({ ...fields, healthy: false, reason }, 'health check: target unhealthy');
    else this.log.info({ ...fields, healthy: true }, 'health check: target healthy');
  }
}

import { NO_EVENTS, type GatewayEvents } from '../observability/events';
import { applyProbe, publishTargetState, type ThresholdState } from './health-check';
import type { Target } from './target';
import type { Upstream } from './upstream';

const THRESHOLDS = { healthyThreshold: 2, unhealthyThreshold: 3 };

/** Runs a probe sequence ('+' pass, '-' fail) from healthy; returns the health after each probe. */
function run(sequence: string, start = true): string {
  const state: ThresholdState = { healthy: start, successes: 0, failures: 0 };
  let out = '';
  for (const probe of sequence) {
    applyProbe(state, probe === '+', THRESHOLDS);
    out += state.healthy ? 'H' : 'u';
  }
  return out;
}

describe('applyProbe (thresholds 2 healthy / 3 unhealthy)', () => {
  it.each([
    // healthy: three failures in a row to go out
    ['--', true, 'HH'],
    ['---', true, 'HHu'],
    ['--+---', true, 'HHHHHu'],
    ['++++', true, 'HHHH'],
    // unhealthy: two successes in a row to come back
    ['+', false, 'u'],
    ['++', false, 'uH'],
    ['+-+', false, 'uuu'],
    ['+-++', false, 'uuuH'],
    // the counters restart after each flip
    ['---++---', true, 'HHuuHHHu'],
    ['---+-++', true, 'HHuuuuH'],
  ])('%s from healthy=%s → %s', (sequence, start, expected) => {
    expect(run(sequence, start)).toBe(expected);
  });

  it('returns true exactly on the probes that flip the state', () => {
    const state: ThresholdState = { healthy: true, successes: 0, failures: 0 };
    const flips = [false, false, false, true, true, true].map((ok) => applyProbe(state, ok, THRESHOLDS));
    expect(flips).toEqual([false, false, true, false, true, false]);
  });

  it('with thresholds of 1 flips on every change', () => {
    const state: ThresholdState = { healthy: true, successes: 0, failures: 0 };
    const one = { healthyThreshold: 1, unhealthyThreshold: 1 };
    expect([false, false, true, true, false].map((ok) => applyProbe(state, ok, one))).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('publishTargetState', () => {
  function fixture() {
    const target = { url: 'http://t1', healthy: true, ejectedUntil: 0, reason: null } as unknown as Target;
    const upstream = { name: 'users' } as unknown as Upstream;
    const published: boolean[] = [];
    const events: GatewayEvents = {
      ...NO_EVENTS,
      targetHealth: (_u, _t, healthy) => published.push(healthy),
    };
    return { target, upstream, published, events };
  }

  it('shows both reasons while both mechanisms hold the target out, and publishes healthy && !ejected', () => {
    const { target, upstream, published, events } = fixture();
    target.healthy = false;
    publishTargetState(events, upstream, target, 'check', 'health check: status 503', 100);
    expect(target.reason).toBe('health check: status 503');
    target.ejectedUntil = 500;
    publishTargetState(events, upstream, target, 'ejection', 'ejected: 5 consecutive failures', 100);
    expect(target.reason).toBe('health check: status 503; ejected: 5 consecutive failures');
    // The check passes again while the ejection lasts: still out, for the ejection's reason.
    target.healthy = true;
    publishTargetState(events, upstream, target, 'check', null, 200);
    expect(target.reason).toBe('ejected: 5 consecutive failures');
    publishTargetState(events, upstream, target, 'ejection', null, 500);
    expect(target.reason).toBeNull();
    expect(published).toEqual([false, false, false, true]);
  });
});

/**
 * @module upstream/health-check
 * Active health: probes every target of an upstream with `GET <path>` on an interval and marks
 * it unhealthy after `unhealthyThreshold` failing probes in a row, healthy again after
 * `healthyThreshold` passing ones. Sits beside the request path, not in it: it only writes
 * `target.healthy`, which the balancer reads when it picks a target.
 *
 * Probes go over a dedicated one-connection undici Client per target, not the target's traffic
 * Pool (Envoy does the same): a Pool saturated by slow requests would queue the probe behind
 * them and fail it, so a merely busy target would be pulled out and its load pushed onto the
 * others. Overload is the bulkhead's and outlier detection's business; the probe asks only
 * "does this target answer its health endpoint", and the extra socket per target is cheap.
 */
import { Client } from 'undici';
import type { HealthCheckConfig, StatusRange } from '../config/types';
import type { GatewayEvents } from '../observability/events';
import type { Target } from './target';
import type { Upstream } from './upstream';

export interface HealthChecker {
  /** Starts probing (idempotent). The first probe of each target comes at a random point in the first interval. */
  start(): void;
  /** Cancels timers and in-flight probes and closes the probe connections; nothing runs afterwards. */
  stop(): void;
}

/** The threshold state machine of one target, apart from sockets so it can be tested with plain values. */
export interface ThresholdState {
  healthy: boolean;
  /** Passing probes in a row while unhealthy. */
  successes: number;
  /** Failing probes in a row while healthy. */
  failures: number;
}

/** Applies one probe result; returns true when `state.healthy` flipped. */
export function applyProbe(
  state: ThresholdState,
  ok: boolean,
  thresholds: Pick<HealthCheckConfig, 'healthyThreshold' | 'unhealthyThreshold'>,
): boolean {
  if (ok) {
    state.failures = 0;
    if (state.healthy || ++state.successes < thresholds.healthyThreshold) return false;
    state.healthy = true;
    state.successes = 0;
    return true;
  }
  state.successes = 0;
  if (!state.healthy || ++state.failures < thresholds.unhealthyThreshold) return false;
  state.healthy = false;
  state.failures = 0;
  return true;
}

/** Why each mechanism keeps a target out; `target.reason` shows whichever apply. */
interface OutReasons {
  check: string | null;
  ejection: string | null;
}
const outReasons = new WeakMap<Target, OutReasons>();

/**
 * Records why active checks (`check`) or outlier detection (`ejection`) hold a target out (null:
 * they no longer do), sets `target.reason` from both, and publishes the target's availability
 * (healthy and not ejected) to the `upstream_target_healthy` gauge. Both modules go through here
 * so that one mechanism letting a target back in does not hide the other one's reason.
 */
export function publishTargetState(
  events: GatewayEvents,
  upstream: Upstream,
  target: Target,
  source: keyof OutReasons,
  reason: string | null,
  now: number,
): void {
  let reasons = outReasons.get(target);
  if (!reasons) outReasons.set(target, (reasons = { check: null, ejection: null }));
  reasons[source] = reason;
  const { check, ejection } = reasons;
  target.reason = check && ejection ? `${check}; ${ejection}` : (check ?? ejection);
  const available = target.healthy && target.ejectedUntil <= now;
  events.targetHealth(upstream.name, target.url, available, source, reason);
}

/** What one probe found: `reason` says why it failed, for /health. */
interface ProbeResult {
  ok: boolean;
  reason: string;
}

/** Jitter of ±10% on each interval, so targets started together drift apart. */
const JITTER = 0.1;
/** A health endpoint's body is meant to be small; past this undici drops the connection instead. */
const MAX_PROBE_BODY_BYTES = 64 * 1024;
const PROBE_HEADERS = { 'user-agent': 'breakwater-health-check' };

/** The probing loop of one target: never two probes at once; the next is scheduled when one ends. */
class TargetProbe {
  private readonly state: ThresholdState;
  private readonly client: Client;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly target: Target,
    private readonly config: HealthCheckConfig,
    private readonly upstream: Upstream,
    private readonly events: GatewayEvents,
  ) {
    this.state = { healthy: target.healthy, successes: 0, failures: 0 };
    this.client = new Client(target.origin, {
      connect: { timeout: config.timeoutMs },
      // Our own timer covers connect, headers and body in one budget and is cancellable by stop().
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    });
  }

  schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(runProbe, delayMs, this);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort(new Error('health checks stopped'));
    this.client.destroy().catch(() => undefined);
  }

  async run(): Promise<void> {
    const result = await this.probe();
    if (this.stopped) return;
    const target = this.target;
    target.lastCheck = new Date().toISOString();
    this.events.healthCheck(this.upstream.name, target.url, result.ok ? 'success' : 'failure');
    if (applyProbe(this.state, result.ok, this.config)) {
      target.healthy = this.state.healthy;
      const reason = target.healthy ? null : `health check: ${result.reason}`;
      publishTargetState(this.events, this.upstream, target, 'check', reason, performance.now());
    }
    this.schedule(this.config.intervalMs * (1 - JITTER + 2 * JITTER * Math.random()));
  }

  /** One GET within `timeoutMs`, body read and discarded so the connection can be reused. */
  private async probe(): Promise<ProbeResult> {
    const controller = (this.controller = new AbortController());
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('health check timeout'));
    }, this.config.timeoutMs);
    timer.unref();
    try {
      const { statusCode, body } = await this.client.request({
        path: this.config.path,
        method: 'GET',
        headers: PROBE_HEADERS,
        signal: controller.signal,
      });
      await body.dump({ signal: controller.signal, limit: MAX_PROBE_BODY_BYTES });
      const ok = inRanges(statusCode, this.config.expectStatus);
      return { ok, reason: `status ${statusCode}` };
    } catch (err) {
      return { ok: false, reason: timedOut ? 'timeout' : describeError(err) };
    } finally {
      clearTimeout(timer);
      this.controller = undefined;
    }
  }
}

function inRanges(status: number, ranges: readonly StatusRange[]): boolean {
  for (const range of ranges) if (status >= range.from && status <= range.to) return true;
  return false;
}

function runProbe(probe: TargetProbe): void {
  void probe.run();
}

/** A short, stable reason for /health; never a stack. */
function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    default:
      return typeof code === 'string' ? code : 'error';
  }
}

/** Active health checks for every target of `upstream`; nothing runs until start(). */
export function createHealthChecker(
  config: HealthCheckConfig,
  upstream: Upstream,
  events: GatewayEvents,
): HealthChecker {
  let probes: TargetProbe[] | undefined;
  return {
    start() {
      if (probes) return;
      probes = upstream.targets.map((target) => new TargetProbe(target, config, upstream, events));
      // A random first offset spreads the probes of many targets (and gateways) over the interval.
      for (const probe of probes) probe.schedule(Math.random() * config.intervalMs);
    },
    stop() {
      if (probes) for (const probe of probes) probe.stop();
      probes = undefined;
    },
  };
}

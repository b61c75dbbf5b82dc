/**
 * @module observability/metrics
 * Every Prometheus metric breakwater exposes, defined in one place on a private registry.
 * Names follow DESIGN.md (prefix breakwater_, base units, _total counters); label values
 * come from config names, never from raw paths or client input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LabelledHistogram } from './labelled-histogram';

/** breakwater's version from package.json (dist/ and src/ both sit one level below it). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

const PREFIX = 'breakwater_';
/** Seconds; from 1 ms to 10 s, the range a proxied request lives in. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const PROMTOOL_REJECTED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export type Outcome =
  'success' | 'http_4xx' | 'http_5xx' | 'timeout' | 'connect_error' | 'reset' | 'circuit_open';

/** The metric objects; create one per process. */
export class GatewayMetrics {
  readonly registry = new Registry();

  /**
   * Hot-path counts kept as plain numbers (observability/wire) and pushed into the metrics
   * below when they are collected, so a request pays no label hashing for them.
   */
  private readonly pending: Array<() => void> = [];

  /** Registers a function that brings the hot-path metrics up to date before each collect. */
  onCollect(sync: () => void): void {
    this.pending.push(sync);
  }

  private readonly syncPending = (): void => {
    for (const sync of this.pending) sync();
  };

  readonly requests = new Counter({
    name: `${PREFIX}requests_total`,
    help: 'Requests answered by the gateway, by route, method and status code.',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [this.registry],
    collect: () => this.syncPending(),
  });

  readonly requestDuration = new LabelledHistogram({
    name: `${PREFIX}request_duration_seconds`,
    help: 'Time from the request arriving to the response being finished, by route.',
    labelName: 'route',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly slowRequests = new Counter({
    name: `${PREFIX}slow_requests_total`,
    help: "Requests that took at least their route's slowRequest threshold, by route.",
    labelNames: ['route'] as const,
    registers: [this.registry],
    collect: () => this.syncPending(),
  });

  readonly upstreamRequests = new Counter({
    name: `${PREFIX}upstream_requests_total`,
    help: 'Attempts sent to upstream targets, by outcome.',
    labelNames: ['upstream', 'target', 'outcome'] as const,
    registers: [this.registry],
    collect: () => this.syncPending(),
  });

  readonly upstreamDuration = new LabelledHistogram({
    name: `${PREFIX}upstream_duration_seconds`,
    help: 'Time from sending an attempt to the upstream response headers (or failure).',
    labelName: 'upstream',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly inflight = new Gauge({
    name: `${PREFIX}inflight_requests`,
    help: 'Requests being handled right now, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
    collect: () => this.syncPending(),
  });

  readonly retries = new Counter({
    name: `${PREFIX}retries_total`,
    help: 'Retries sent, by route and reason; reason="budget_exhausted" counts retries the budget refused.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: `${PREFIX}circuit_state`,
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open (route="*" for scope upstream).',
    labelNames: ['upstream', 'route'] as const,
    // Across cluster workers the most open breaker is the one to see.
    aggregator: 'max',
    registers: [this.registry],
  });

  readonly circuitTransitions = new Counter({
    name: `${PREFIX}circuit_transitions_total`,
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['upstream', 'route', 'to'] as const,
    registers: [this.registry],
  });

  readonly targetHealthy = new Gauge({
    name: `${PREFIX}upstream_target_healthy`,
    help: '1 when the target can take traffic (healthy and not ejected), else 0.',
    labelNames: ['upstream', 'target'] as const,
    aggregator: 'min',
    registers: [this.registry],
  });

  readonly healthChecks = new Counter({
    name: `${PREFIX}health_checks_total`,
    help: 'Active health check probes, by result.',
    labelNames: ['upstream', 'target', 'result'] as const,
    registers: [this.registry],
  });

  readonly ejections = new Counter({
    name: `${PREFIX}outlier_ejections_total`,
    help: 'Targets ejected by outlier detection.',
    labelNames: ['upstream', 'target'] as const,
    registers: [this.registry],
  });

  readonly shed = new Counter({
    name: `${PREFIX}shed_total`,
    help: 'Requests refused with 503 OVERLOADED, by route and reason (bulkhead, event_loop).',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: `${PREFIX}fallbacks_total`,
    help: 'Static fallback responses served, by route and trigger.',
    labelNames: ['route', 'trigger'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: `${PREFIX}rate_limited_total`,
    help: 'Requests over a rate limit, by route, tier (key: consumer only) and mode (enforce refused them, shadow only counted).',
    labelNames: ['route', 'tier', 'mode'] as const,
    registers: [this.registry],
  });

  readonly slowDowns = new Counter({
    name: `${PREFIX}slow_down_delayed_total`,
    help: 'Requests held back by slowDown before being passed on, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly slowDownSeconds = new Counter({
    name: `${PREFIX}slow_down_delay_seconds_total`,
    help: 'Total delay slowDown added, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly faultsInjected = new Counter({
    name: `${PREFIX}faults_injected_total`,
    help: 'Faults injected by the fault policy (chaos drills), by route and kind (delay, abort).',
    labelNames: ['route', 'kind'] as const,
    registers: [this.registry],
  });

  readonly errorsMasked = new Counter({
    name: `${PREFIX}errors_masked_total`,
    help: 'Upstream 5xx answers whose body errors: mask replaced with the gateway error JSON, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly consumerKeysSuspicious = new Counter({
    name: `${PREFIX}consumer_key_suspicious_total`,
    help: 'Consumer API keys seen from more client IPs in a window than consumers.maxIpsPerKey allows (once per key and window), by tier.',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: `${PREFIX}cache_requests_total`,
    help: 'Requests on cached routes, by how the cache answered (hit, miss, stale, bypass, revalidated).',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
    collect: () => this.syncPending(),
  });

  readonly cacheBytes = new Gauge({
    name: `${PREFIX}cache_bytes`,
    help: 'Bytes of responses held by the memory cache.',
    registers: [this.registry],
  });

  readonly memoryUsageRatio = new Gauge({
    name: `${PREFIX}memory_usage_ratio`,
    help: 'max(heap used / heap limit, rss / cgroup memory limit), sampled every server.memoryCheckInterval; 1 = out of memory.',
    // Across cluster workers the fullest one is the one to see.
    aggregator: 'max',
    registers: [this.registry],
  });

  readonly websocketConnections = new Gauge({
    name: `${PREFIX}websocket_connections`,
    help: 'WebSocket connections open through the gateway, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly redisUp = new Gauge({
    name: `${PREFIX}redis_up`,
    help: '1 while the Redis connection is ready, 0 while it is down (absent without redis.url).',
    aggregator: 'min',
    registers: [this.registry],
  });

  /** Reads the logger's count of lines its sink could not take. */
  private droppedLines: () => number = () => 0;
  private droppedSeen = 0;

  readonly logLinesDropped = new Counter({
    name: `${PREFIX}log_lines_dropped_total`,
    help: 'Log lines dropped because the log sink was gone or full (closed pipe, full disk); traffic is never held for logs.',
    registers: [this.registry],
    collect: () => {
      const now = this.droppedLines();
      if (now > this.droppedSeen) this.logLinesDropped.inc(now - this.droppedSeen);
      this.droppedSeen = now;
    },
  });

  /** Where log_lines_dropped_total reads from (the process logger). */
  countLogDrops(read: () => number): void {
    this.droppedLines = read;
  }

  readonly configReloads = new Counter({
    name: `${PREFIX}config_reloads_total`,
    help: 'Configuration reloads, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configInfo = new Gauge({
    name: `${PREFIX}config_info`,
    help: 'Always 1; the version label is the hash of the running configuration.',
    labelNames: ['version'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });

  readonly badRequests = new Counter({
    name: `${PREFIX}rejected_requests_total`,
    help: 'Requests refused before routing (malformed, over limits), by status code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the labels say which breakwater and which Node.js are running.',
    labelNames: ['version', 'node'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.buildInfo.labels(packageVersion(), process.versions.node).set(1);
    // These three are gauges named *_total, which `promtool check metrics` rejects; the same
    // numbers stay available per type as nodejs_active_handles / _requests / _resources.
    for (const name of PROMTOOL_REJECTED_DEFAULTS) this.registry.removeSingleMetric(name);
    this.configReloads.inc({ result: 'success' }, 0);
    this.configReloads.inc({ result: 'failure' }, 0);
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * @module config/defaults
 * Every default of gateway.yaml as a named constant, written the way an operator would write it
 * in the file (`'30s'`, `'10mb'`). The schema publishes them as JSON Schema `default`s for
 * editors, and `validate.ts` applies them when a key is absent, so the two never disagree.
 */

/** The proxy listener. */
export const DEFAULT_LISTEN = '0.0.0.0:8080';
/** Loopback by default: the admin API must not be reachable from outside without a token. */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9090';

export const DEFAULT_LIMITS = Object.freeze({
  maxBodySize: '10mb',
  maxHeaderSize: '16kb',
  headersTimeout: '10s',
  requestTimeout: '60s',
  // nginx's keepalive_timeout: longer than the 60 s idle timeout of common load balancers in front.
  keepAliveTimeout: '75s',
  // Envoy's default; nginx and HAProxy refuse far fewer than Node's 1,000 (the rest Node drops).
  maxHeaderCount: 100,
  // nginx's client_body_buffer_size is 8-16k; 64k covers most JSON APIs' bodies.
  requestBuffer: '64kb',
});

export const DEFAULT_SHUTDOWN_TIMEOUT = '30s';
/** 0: stop accepting at once. Kubernetes users set ~5s so endpoints catch up before the listener closes. */
export const DEFAULT_DRAIN_DELAY = '0s';
export const DEFAULT_WORKERS = 1;
export const DEFAULT_ESCAPED_SLASHES = 'keep';
/** `server.memoryWarning`: warn when heap or container memory use reaches this share of its limit. */
export const DEFAULT_MEMORY_WARNING = 0.9;
/** `server.memoryCheckInterval`: how often memory use is sampled. */
export const DEFAULT_MEMORY_CHECK_INTERVAL = '5s';
/** Shed load once the event loop lags this much; `0` turns overload shedding off. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY = '200ms';

export const DEFAULT_TARGET_WEIGHT = 1;
export const DEFAULT_BALANCE = 'round_robin';
export const DEFAULT_CONNECT = Object.freeze({ timeout: '5s', maxConnections: 256 });

/** Applied to the keys of a `healthCheck:` block; no block means no active health checks. */
export const DEFAULT_HEALTH_CHECK = Object.freeze({
  interval: '5s',
  timeout: '1s',
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  expectStatus: '200-399',
});

/** Applied to the keys of an `outlierDetection:` block; no block means no passive ejection. */
export const DEFAULT_OUTLIER_DETECTION = Object.freeze({
  consecutiveFailures: 5,
  ejectFor: '30s',
  maxEjectFor: '300s',
  maxEjectedPercent: 50,
});

/** Applied to the keys of a `circuitBreaker:` block; no block means no breaker. */
export const DEFAULT_CIRCUIT_BREAKER = Object.freeze({
  scope: 'route',
  errorThresholdPercentage: 50,
  volumeThreshold: 20,
  window: '10s',
  resetTimeout: '30s',
});

/** 4xx never counts: the client asked for something wrong, the upstream is fine. */
export const DEFAULT_FAILURE_STATUSES = '500-599';
export const DEFAULT_FAIL_OPEN = false;
export const DEFAULT_CRITICAL = true;

export const DEFAULT_HOST_HEADER = 'preserve';
/** Whole-request deadline, every retry included. */
export const DEFAULT_ROUTE_TIMEOUT = '30s';

/** Applied to the keys of a `retry:` block; no block means one attempt. */
export const DEFAULT_RETRY = Object.freeze({
  attempts: 3,
  on: Object.freeze(['connect-failure', 'reset', 502, 503, 504] as const),
  /** Idempotent methods only (RFC 9110 §9.2.2): replaying them cannot do harm twice. */
  methods: Object.freeze(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'] as const),
  idempotencyKey: false,
  maxBufferSize: '64kb',
  backoff: Object.freeze({ base: '25ms', max: '1s', maxRetryAfter: '5s' }),
  budget: Object.freeze({ ratio: 0.2, minPerSecond: 10 }),
});

/** Applied to the keys of a `fallback:` block; no block means the gateway's own error reply. */
export const DEFAULT_FALLBACK = Object.freeze({
  status: 503,
  body: '',
  on: Object.freeze(['circuit-open', 'no-healthy-upstream', 'overloaded', 'timeout', 'unavailable'] as const),
});

/** Applied to the keys of a `rateLimit:` entry. */
export const DEFAULT_RATE_LIMIT = Object.freeze({
  burst: 0,
  mode: 'enforce',
  headers: 'standard',
});

/** Applied to the keys of a `slowDown:` block; no block means no delay. */
export const DEFAULT_SLOW_DOWN = Object.freeze({ key: 'ip', delay: '100ms', maxDelay: '2s', window: '15m' });

/** The header that carries API keys for `key: consumer`. */
export const DEFAULT_CONSUMER_HEADER = 'x-api-key';

/** Applied to the keys of `consumers.maxIpsPerKey`; no block means keys are not watched. */
export const DEFAULT_MAX_IPS_PER_KEY = Object.freeze({ window: '1h', action: 'warn' as const });

/** Applied to the keys of a route's `cache:` block; no block means the route is not cached. */
export const DEFAULT_CACHE = Object.freeze({ ttl: '30s', staleIfError: '0s', staleWhileRevalidate: '0s' });
/** `server.cache.maxSize`: memory bound of the response cache. */
export const DEFAULT_CACHE_MAX_SIZE = '100mb';

export const DEFAULT_REDIS_KEY_PREFIX = 'bw:';

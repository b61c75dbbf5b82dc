/**
 * @module config/types
 * The validated, normalised configuration every other module reads. Durations are milliseconds
 * and sizes are bytes (the unit is in the name); YAML strings such as `5s` or `10mb` never get
 * past `validate.ts`. Objects are deep-frozen by the loader.
 */
import type { CompressionConfig } from '../policies/compression/config';
import type { CorsConfig } from '../policies/cors/config';
import type { FaultConfig } from '../policies/fault/config';
import type { HeadersConfig } from '../policies/headers/config';
import type { SecurityHeadersConfig } from '../policies/security-headers/config';
import type { ErrorsMode } from '../policies/error-mask/config';

export type { CompressionConfig, CorsConfig, ErrorsMode, FaultConfig, HeadersConfig, SecurityHeadersConfig };

/** host:port a listener binds to. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** An inclusive range of HTTP status codes, e.g. 500-599. */
export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

export interface ServerLimits {
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Idle time before a client keep-alive connection is closed. */
  readonly keepAliveTimeoutMs: number;
  /** More request header fields than this: 431, never forwarded. */
  readonly maxHeaderCount: number;
  /** Bodies up to this size are read whole before anything goes upstream; 0 = off. */
  readonly requestBufferBytes: number;
}

export interface AdminConfig {
  readonly listen: ListenAddress;
  /** Bearer token for /admin/*; undefined when unset or empty. */
  readonly token: string | undefined;
}

export interface OverloadConfig {
  /** Shed new requests while the event loop lags more than this. 0 = off. */
  readonly maxEventLoopDelayMs: number;
}

export interface ServerConfig {
  readonly listen: ListenAddress;
  readonly admin: AdminConfig;
  /** CIDRs (IPv4 or IPv6) whose X-Forwarded-* headers are trusted. */
  readonly trustProxy: readonly string[];
  readonly limits: ServerLimits;
  readonly shutdownTimeoutMs: number;
  /** On SIGTERM, readiness fails at once but the listener keeps accepting this long. */
  readonly drainDelayMs: number;
  /** `slowRequest`: every route's default threshold (ms); undefined = off. */
  readonly slowRequestMs: number | undefined;
  /** Number of worker processes; 'auto' = one per core. */
  readonly workers: number | 'auto';
  /** What to do with %2F / %5C inside a path segment. */
  readonly escapedSlashes: 'keep' | 'reject';
  readonly overload: OverloadConfig;
  /** The response cache's memory bound. */
  readonly cache: { readonly maxBytes: number };
  /** Warn when memory use reaches this share of its limit, in (0, 1]; undefined = no warnings. */
  readonly memoryWarning: number | undefined;
  /** How often memory use is sampled. */
  readonly memoryCheckIntervalMs: number;
  /**
   * Edge policy defaults, already folded into every route that does not set its own (see
   * RouteConfig); kept here for the answers made before a route matches (404) and for display.
   */
  readonly securityHeaders: SecurityHeadersConfig | undefined;
  readonly cors: CorsConfig | undefined;
  readonly compression: CompressionConfig | undefined;
  readonly headers: HeadersConfig | undefined;
  readonly fault: FaultConfig | undefined;
  readonly slowDown: SlowDownConfig | undefined;
  /** Upstream 5xx bodies: passed as sent, or masked (every route's default). */
  readonly errors: ErrorsMode;
}

export interface TargetConfig {
  /** As written in gateway.yaml, e.g. http://10.0.0.5:3000 (no path). */
  readonly url: string;
  /** Scheme + host + port, what undici's Pool takes. */
  readonly origin: string;
  readonly weight: number;
}

export type BalanceAlgorithm = 'round_robin' | 'least_request' | 'random';

export interface ConnectConfig {
  readonly timeoutMs: number;
  readonly maxConnections: number;
}

export interface HealthCheckConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly expectStatus: readonly StatusRange[];
}

export interface OutlierDetectionConfig {
  readonly consecutiveFailures: number;
  /** First ejection; each repeat ejection multiplies it, capped at maxEjectForMs. */
  readonly ejectForMs: number;
  readonly maxEjectForMs: number;
  readonly maxEjectedPercent: number;
}

export type BreakerScope = 'route' | 'upstream';

export interface CircuitBreakerConfig {
  readonly scope: BreakerScope;
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly windowMs: number;
  readonly resetTimeoutMs: number;
}

export interface UpstreamConfig {
  readonly name: string;
  readonly targets: readonly TargetConfig[];
  readonly balance: BalanceAlgorithm;
  readonly connect: ConnectConfig;
  readonly healthCheck: HealthCheckConfig | undefined;
  readonly outlierDetection: OutlierDetectionConfig | undefined;
  readonly circuitBreaker: CircuitBreakerConfig | undefined;
  /** Bulkhead: in-flight requests allowed to this upstream; undefined = unlimited. */
  readonly maxConcurrent: number | undefined;
  /** Statuses that count as failures for breakers, outlier detection and retries' 5xx. */
  readonly failureStatuses: readonly StatusRange[];
  /** When every target is out, send to all of them anyway instead of 503 NO_HEALTHY_UPSTREAM. */
  readonly failOpen: boolean;
  /** Whether /health/ready turns 503 when this upstream has no healthy target. */
  readonly critical: boolean;
}

export interface RouteMatch {
  /** Lower-cased; exact names or `*.example.com` wildcards. Empty = any host. */
  readonly hosts: readonly string[];
  /** Segment-boundary prefix, without a trailing slash (except `/`). */
  readonly pathPrefix: string | undefined;
  /** Exact path. */
  readonly path: string | undefined;
  /** Upper-cased; empty = any method. */
  readonly methods: readonly string[];
  /** Header name (lower-cased) → exact value. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface RewriteConfig {
  readonly stripPrefix: string | undefined;
  readonly addPrefix: string | undefined;
}

/** preserve: the client's Host; target: the target's host:port; anything else: that literal value. */
export type HostHeaderMode =
  | { readonly kind: 'preserve' }
  | { readonly kind: 'target' }
  | { readonly kind: 'value'; readonly value: string };

/** Why an attempt may be retried: a transport outcome or a response status. */
export type RetryCondition = 'connect-failure' | 'reset' | 'timeout' | number;

export interface RetryConfig {
  /** Total tries, the first included. */
  readonly attempts: number;
  /** undefined = each try may use what is left of the route timeout. */
  readonly perTryTimeoutMs: number | undefined;
  readonly on: readonly RetryCondition[];
  /** Upper-cased methods that may be retried. */
  readonly methods: readonly string[];
  /** Also retry non-idempotent requests that carry an Idempotency-Key header. */
  readonly idempotencyKey: boolean;
  /** Request bodies up to this size are buffered for replay; larger ones stream and are not retried. */
  readonly maxBufferBytes: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number; readonly maxRetryAfterMs: number };
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
}

export type FallbackTrigger =
  'circuit-open' | 'no-healthy-upstream' | 'overloaded' | 'timeout' | 'unavailable' | '5xx';

export interface FallbackConfig {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly on: readonly FallbackTrigger[];
}

/** What a rate limit counts by. */
export type RateLimitKey =
  | { readonly kind: 'ip' }
  | { readonly kind: 'route' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'consumer' };

/** How the limit is told to clients: RateLimit-* + Policy, the draft's RateLimit field, X-RateLimit-*, or nothing. */
export type RateLimitHeaders = 'standard' | 'draft' | 'legacy' | 'none';

/** One limit of a route's `rateLimit` (a single block is a list of one). */
export interface RateLimitRule {
  readonly key: RateLimitKey;
  /** Requests per window; for `key: consumer` the tier's limit applies instead. */
  readonly limit: number;
  readonly windowMs: number;
  /** Extra requests per window, drawn only when `limit` is spent. */
  readonly burst: number;
  /** Upper-cased; empty = every method. */
  readonly methods: readonly string[];
  /** shadow: count and log, never refuse. */
  readonly mode: 'enforce' | 'shadow';
  readonly headers: RateLimitHeaders;
  /** The `sharedLimits` entry this rule counts into (one counter across routes); absent = the route's own. */
  readonly shared?: string;
  /**
   * `key: consumer` only: this rule's own allowance per tier (every tier named), in place of the
   * top-level `tiers`; absent = the top-level table.
   */
  readonly tiers?: Readonly<Record<string, TierConfig>>;
}

/** Progressive delay: past `after` requests in the window, each waits `delayMs` more, up to `maxDelayMs`. */
export interface SlowDownConfig {
  readonly key: RateLimitKey;
  readonly after: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly windowMs: number;
}

export interface TierConfig {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
  /** Shown in the 429 body (`error.upgrade`) of this tier, e.g. a pricing page URL. */
  readonly upgrade: string | undefined;
}

export interface ConsumersConfig {
  /** Lower-cased header carrying the API key. */
  readonly header: string;
  /** Lower-case hex sha256 of each key → tier name. The raw key is never in config or memory. */
  readonly keys: Readonly<Record<string, string>>;
  readonly defaultTier: string;
  /** Watch each known key for use from too many client addresses; undefined = off. */
  readonly maxIpsPerKey: MaxIpsPerKeyConfig | undefined;
}

/** `consumers.maxIpsPerKey`: distinct client IPs a key may be seen from per fixed window. */
export interface MaxIpsPerKeyConfig {
  readonly ips: number;
  readonly windowMs: number;
  /** warn: log and count the first address over; refuse: also answer 403 KEY_SHARED to it and later ones. */
  readonly action: 'warn' | 'refuse';
}

export interface CacheConfig {
  /** Freshness when the response gives none (no s-maxage, max-age or Expires). */
  readonly ttlMs: number;
  /** How long past freshness a stored response may answer a failure. */
  readonly staleIfErrorMs: number;
  /** How long past freshness a stored response may answer while one refresh runs in the background. */
  readonly staleWhileRevalidateMs: number;
}

export interface RedisConfig {
  readonly url: string;
  readonly keyPrefix: string;
}

export interface RouteConfig {
  readonly name: string;
  readonly match: RouteMatch;
  readonly upstream: string;
  readonly rewrite: RewriteConfig | undefined;
  readonly hostHeader: HostHeaderMode;
  /** Whole-request deadline, every retry included. */
  readonly timeoutMs: number;
  /** Requests at least this long are logged at warn with `slow: true`; undefined = off. */
  readonly slowRequestMs: number | undefined;
  readonly retry: RetryConfig | undefined;
  /** Per-route override of the upstream's breaker settings (scope stays the upstream's). */
  readonly circuitBreaker: Omit<CircuitBreakerConfig, 'scope'> | undefined;
  readonly maxConcurrent: number | undefined;
  readonly fallback: FallbackConfig | undefined;
  /** Whether WebSocket upgrades are proxied on this route (else Upgrade is stripped). */
  readonly websocket: boolean;
  /** Empty = no rate limit. */
  readonly rateLimit: readonly RateLimitRule[];
  readonly slowDown: SlowDownConfig | undefined;
  readonly cache: CacheConfig | undefined;
  /** Edge policies: the route's own block, else `server`'s; undefined = off. */
  readonly securityHeaders: SecurityHeadersConfig | undefined;
  readonly cors: CorsConfig | undefined;
  readonly compression: CompressionConfig | undefined;
  readonly headers: HeadersConfig | undefined;
  readonly fault: FaultConfig | undefined;
  /** mask: an upstream 5xx reaches the client with its status but the gateway's UPSTREAM_ERROR body. */
  readonly errors: ErrorsMode;
}

export interface GatewayConfig {
  readonly version: 1;
  /** Path of the file this config came from (for messages). */
  readonly source: string;
  readonly server: ServerConfig;
  /** In file order. */
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  /** In file order; first match wins. */
  readonly routes: readonly RouteConfig[];
  /** undefined when `redis.url` is absent or empty: all state in memory. */
  readonly redis: RedisConfig | undefined;
  readonly consumers: ConsumersConfig | undefined;
  readonly tiers: Readonly<Record<string, TierConfig>>;
}

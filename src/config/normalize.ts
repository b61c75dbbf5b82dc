/**
 * @module config/normalize
 * Pass 3 of `validate.ts`: raw, schema-valid gateway.yaml data → `GatewayConfig`. Durations become
 * ms and sizes bytes, named defaults from `defaults.ts` fill omitted keys, methods are upper-cased
 * and header names lower-cased, and route breakers inherit from their upstream's. Runs only when
 * passes 1 and 2 found nothing, so every parse here already passed the schema and `unwrap` holds.
 */
import * as D from './defaults';
import { normalizeCache, normalizeServerCache } from '../policies/cache/config';
import { normalizeCompression } from '../policies/compression/config';
import { normalizeCors } from '../policies/cors/config';
import { normalizeErrors } from '../policies/error-mask/config';
import { normalizeFault } from '../policies/fault/config';
import { normalizeHeaders } from '../policies/headers/config';
import { normalizeSecurityHeaders } from '../policies/security-headers/config';
import {
  normalizeConsumers,
  normalizeRateLimit,
  normalizeSlowDown,
  normalizeTiers,
  type RawSharedLimits,
  type RawTiers,
} from '../policies/rate-limit/config';
import { normalizeRedis } from '../state/config';
import { inherit } from './schema-kit';
import type { RawGatewayConfig, RawRoute, RawServer, RawUpstream } from './schema';
import type * as T from './types';
import {
  parseCidr,
  parseDuration,
  parseHostPattern,
  parseListen,
  parseSize,
  parseStatusRanges,
  parseTargetUrl,
  unwrap,
} from './units';

const ms = (value: unknown, fallback: string | number): number => unwrap(parseDuration(value ?? fallback));
const bytes = (value: unknown, fallback: string | number): number => unwrap(parseSize(value ?? fallback));
const statuses = (value: unknown, fallback: string): T.StatusRange[] =>
  unwrap(parseStatusRanges(value ?? fallback));
const lowerKeys = (map: Readonly<Record<string, string>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
const upper = (values: readonly string[]): string[] => values.map((v) => v.toUpperCase());

/** Normalises schema-valid, cross-checked data; `source` is the file path as the user gave it. */
export function normalize(raw: RawGatewayConfig, source: string): T.GatewayConfig {
  // fromEntries defines own properties, so even an upstream named "__proto__" stays an entry.
  const upstreams: Readonly<Record<string, T.UpstreamConfig>> = Object.fromEntries(
    Object.entries(raw.upstreams).map(([name, upstream]) => [name, normalizeUpstream(name, upstream)]),
  );
  return {
    version: 1,
    source,
    server: normalizeServer(raw.server ?? {}),
    upstreams,
    routes: raw.routes.map((route) =>
      normalizeRoute(route, upstreams[route.upstream], raw.server ?? {}, raw.sharedLimits, raw.tiers),
    ),
    redis: normalizeRedis(raw.redis),
    consumers: normalizeConsumers(raw.consumers),
    tiers: normalizeTiers(raw.tiers),
  };
}

function normalizeServer(server: RawServer): T.ServerConfig {
  const limits = server.limits ?? {};
  const L = D.DEFAULT_LIMITS;
  return {
    listen: unwrap(parseListen(server.listen ?? D.DEFAULT_LISTEN)),
    admin: {
      listen: unwrap(parseListen(server.admin?.listen ?? D.DEFAULT_ADMIN_LISTEN)),
      token: server.admin?.token || undefined,
    },
    trustProxy: (server.trustProxy ?? []).map((cidr) => unwrap(parseCidr(cidr))),
    limits: {
      maxBodyBytes: bytes(limits.maxBodySize, L.maxBodySize),
      maxHeaderBytes: bytes(limits.maxHeaderSize, L.maxHeaderSize),
      headersTimeoutMs: ms(limits.headersTimeout, L.headersTimeout),
      requestTimeoutMs: ms(limits.requestTimeout, L.requestTimeout),
      keepAliveTimeoutMs: ms(limits.keepAliveTimeout, L.keepAliveTimeout),
      maxHeaderCount: limits.maxHeaderCount ?? L.maxHeaderCount,
      requestBufferBytes: bytes(limits.requestBuffer, L.requestBuffer),
    },
    shutdownTimeoutMs: ms(server.shutdownTimeout, D.DEFAULT_SHUTDOWN_TIMEOUT),
    drainDelayMs: ms(server.drainDelay, D.DEFAULT_DRAIN_DELAY),
    slowRequestMs: threshold(server.slowRequest, undefined),
    workers: server.workers ?? D.DEFAULT_WORKERS,
    escapedSlashes: server.escapedSlashes ?? D.DEFAULT_ESCAPED_SLASHES,
    overload: { maxEventLoopDelayMs: ms(server.overload?.maxEventLoopDelay, D.DEFAULT_MAX_EVENT_LOOP_DELAY) },
    cache: normalizeServerCache(server.cache),
    memoryWarning:
      server.memoryWarning === false ? undefined : (server.memoryWarning ?? D.DEFAULT_MEMORY_WARNING),
    memoryCheckIntervalMs: ms(server.memoryCheckInterval, D.DEFAULT_MEMORY_CHECK_INTERVAL),
    securityHeaders: normalizeSecurityHeaders(server.securityHeaders),
    cors: normalizeCors(server.cors),
    compression: normalizeCompression(server.compression),
    headers: normalizeHeaders(server.headers),
    fault: normalizeFault(server.fault),
    slowDown: normalizeSlowDown(server.slowDown),
    errors: normalizeErrors(server.errors),
  };
}

function normalizeUpstream(name: string, raw: RawUpstream): T.UpstreamConfig {
  const cb = raw.circuitBreaker;
  return {
    name,
    targets: raw.targets.map((target) => {
      const { url, weight } = typeof target === 'string' ? { url: target, weight: undefined } : target;
      return { ...unwrap(parseTargetUrl(url)), weight: weight ?? D.DEFAULT_TARGET_WEIGHT };
    }),
    balance: raw.balance ?? D.DEFAULT_BALANCE,
    connect: {
      timeoutMs: ms(raw.connect?.timeout, D.DEFAULT_CONNECT.timeout),
      maxConnections: raw.connect?.maxConnections ?? D.DEFAULT_CONNECT.maxConnections,
    },
    healthCheck: raw.healthCheck && normalizeHealthCheck(raw.healthCheck),
    outlierDetection: raw.outlierDetection && normalizeOutlierDetection(raw.outlierDetection),
    circuitBreaker: cb && { scope: cb.scope ?? 'route', ...breakerSettings(cb, DEFAULT_BREAKER) },
    maxConcurrent: raw.maxConcurrent,
    failureStatuses: statuses(raw.failureStatuses, D.DEFAULT_FAILURE_STATUSES),
    failOpen: raw.failOpen ?? D.DEFAULT_FAIL_OPEN,
    critical: raw.critical ?? D.DEFAULT_CRITICAL,
  };
}

function normalizeHealthCheck(raw: NonNullable<RawUpstream['healthCheck']>): T.HealthCheckConfig {
  const HC = D.DEFAULT_HEALTH_CHECK;
  return {
    path: raw.path,
    intervalMs: ms(raw.interval, HC.interval),
    timeoutMs: ms(raw.timeout, HC.timeout),
    healthyThreshold: raw.healthyThreshold ?? HC.healthyThreshold,
    unhealthyThreshold: raw.unhealthyThreshold ?? HC.unhealthyThreshold,
    expectStatus: statuses(raw.expectStatus, HC.expectStatus),
  };
}

function normalizeOutlierDetection(
  raw: NonNullable<RawUpstream['outlierDetection']>,
): T.OutlierDetectionConfig {
  const OD = D.DEFAULT_OUTLIER_DETECTION;
  return {
    consecutiveFailures: raw.consecutiveFailures ?? OD.consecutiveFailures,
    ejectForMs: ms(raw.ejectFor, OD.ejectFor),
    maxEjectForMs: ms(raw.maxEjectFor, OD.maxEjectFor),
    maxEjectedPercent: raw.maxEjectedPercent ?? OD.maxEjectedPercent,
  };
}

type BreakerSettings = Omit<T.CircuitBreakerConfig, 'scope'>;
type RawBreaker = NonNullable<RawRoute['circuitBreaker']>;

const DEFAULT_BREAKER: BreakerSettings = {
  errorThresholdPercentage: D.DEFAULT_CIRCUIT_BREAKER.errorThresholdPercentage,
  volumeThreshold: D.DEFAULT_CIRCUIT_BREAKER.volumeThreshold,
  windowMs: ms(D.DEFAULT_CIRCUIT_BREAKER.window, 0),
  resetTimeoutMs: ms(D.DEFAULT_CIRCUIT_BREAKER.resetTimeout, 0),
};

/** Keys set in `raw` win; the rest come from `base` (the upstream's breaker, or the defaults). */
function breakerSettings(raw: RawBreaker, base: BreakerSettings): BreakerSettings {
  return {
    errorThresholdPercentage: raw.errorThresholdPercentage ?? base.errorThresholdPercentage,
    volumeThreshold: raw.volumeThreshold ?? base.volumeThreshold,
    windowMs: raw.window === undefined ? base.windowMs : ms(raw.window, 0),
    resetTimeoutMs: raw.resetTimeout === undefined ? base.resetTimeoutMs : ms(raw.resetTimeout, 0),
  };
}

/** `server` supplies the edge policy defaults a route does not set itself (`false` = off). */
function normalizeRoute(
  raw: RawRoute,
  upstream: T.UpstreamConfig | undefined,
  server: RawServer,
  sharedLimits: RawSharedLimits | undefined,
  tiers: RawTiers | undefined,
): T.RouteConfig {
  const match = raw.match ?? {};
  const hosts = match.host === undefined ? [] : Array.isArray(match.host) ? match.host : [match.host];
  const host = raw.hostHeader ?? D.DEFAULT_HOST_HEADER;
  const breakerBase = upstream?.circuitBreaker ?? DEFAULT_BREAKER;
  return {
    name: raw.name,
    match: {
      hosts: hosts.map((h) => unwrap(parseHostPattern(h))),
      // Prefixes match on whole segments, so a trailing slash would only get in the way.
      pathPrefix: match.pathPrefix === undefined ? undefined : match.pathPrefix.replace(/\/+$/, '') || '/',
      path: match.path,
      methods: upper(match.methods ?? []),
      headers: lowerKeys(match.headers),
    },
    upstream: raw.upstream,
    rewrite: raw.rewrite && { stripPrefix: raw.rewrite.stripPrefix, addPrefix: raw.rewrite.addPrefix },
    hostHeader: host === 'preserve' || host === 'target' ? { kind: host } : { kind: 'value', value: host },
    timeoutMs: ms(raw.timeout, D.DEFAULT_ROUTE_TIMEOUT),
    slowRequestMs: threshold(raw.slowRequest, server.slowRequest),
    retry: raw.retry && normalizeRetry(raw.retry),
    circuitBreaker: raw.circuitBreaker && breakerSettings(raw.circuitBreaker, breakerBase),
    maxConcurrent: raw.maxConcurrent,
    fallback: raw.fallback && {
      status: raw.fallback.status ?? D.DEFAULT_FALLBACK.status,
      headers: lowerKeys(raw.fallback.headers),
      body: raw.fallback.body ?? D.DEFAULT_FALLBACK.body,
      on: raw.fallback.on ?? [...D.DEFAULT_FALLBACK.on],
    },
    websocket: raw.websocket ?? false,
    rateLimit: normalizeRateLimit(raw.rateLimit, sharedLimits, tiers),
    slowDown: normalizeSlowDown(inherit(raw.slowDown, server.slowDown)),
    cache: normalizeCache(raw.cache),
    securityHeaders: normalizeSecurityHeaders(raw.securityHeaders, server.securityHeaders),
    cors: normalizeCors(raw.cors, server.cors),
    compression: normalizeCompression(raw.compression, server.compression),
    headers: normalizeHeaders(raw.headers, server.headers),
    fault: normalizeFault(raw.fault, server.fault),
    errors: normalizeErrors(raw.errors, server.errors),
  };
}

/** A slow-request threshold in ms: the route's, else the server's; 0 or absent = off (undefined). */
function threshold(own: string | 0 | undefined, inherited: string | 0 | undefined): number | undefined {
  const value = own ?? inherited;
  if (value === undefined) return undefined;
  const thresholdMs = ms(value, 0);
  return thresholdMs > 0 ? thresholdMs : undefined;
}

function normalizeRetry(raw: NonNullable<RawRoute['retry']>): T.RetryConfig {
  const R = D.DEFAULT_RETRY;
  return {
    attempts: raw.attempts ?? R.attempts,
    perTryTimeoutMs: raw.perTryTimeout === undefined ? undefined : ms(raw.perTryTimeout, 0),
    on: raw.on ?? [...R.on],
    methods: upper(raw.methods ?? R.methods),
    idempotencyKey: raw.idempotencyKey ?? R.idempotencyKey,
    maxBufferBytes: bytes(raw.maxBufferSize, R.maxBufferSize),
    backoff: {
      baseMs: ms(raw.backoff?.base, R.backoff.base),
      maxMs: ms(raw.backoff?.max, R.backoff.max),
      maxRetryAfterMs: ms(raw.backoff?.maxRetryAfter, R.backoff.maxRetryAfter),
    },
    budget: {
      ratio: raw.budget?.ratio ?? R.budget.ratio,
      minPerSecond: raw.budget?.minPerSecond ?? R.budget.minPerSecond,
    },
  };
}

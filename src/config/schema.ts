/**
 * @module config/schema
 * The shape of gateway.yaml as written, in TypeBox: one source for the published JSON Schema
 * (`config/gateway.schema.json`, which editors use to complete and check the file), for ajv in
 * `validate.ts`, and for the raw TypeScript types. Values stay as written (`'5s'`); `validate.ts`
 * turns them into the normalised `GatewayConfig`.
 */
import { type Static, Type } from '@sinclair/typebox';
import * as D from './defaults';
import {
  NAME_PATTERN,
  PROBE_PATH_PATTERN,
  VISIBLE_ASCII_PATTERN,
  withDefault,
  Opt,
  Obj,
  OptObj,
  Int,
  Bool,
  StringEnum,
  Path,
  Duration,
  PositiveDuration,
  Size,
  Status,
  StatusSpec,
  Listen,
  MapOf,
  HeaderMap,
  Tokens,
  TargetUrl,
  Host,
  Switchable,
} from './schema-kit';
import { CacheSchema, ServerCacheSchema } from '../policies/cache/config';
import { CompressionSchema } from '../policies/compression/config';
import { CorsSchema } from '../policies/cors/config';
import { ErrorsSchema, ServerErrorsSchema } from '../policies/error-mask/config';
import { FaultSchema } from '../policies/fault/config';
import { HeadersSchema } from '../policies/headers/config';
import { SecurityHeadersSchema } from '../policies/security-headers/config';
import {
  ConsumersSchema,
  RateLimitSchema,
  SharedLimitsSchema,
  SlowDownSchema,
  TiersSchema,
} from '../policies/rate-limit/config';
import { RedisSchema } from '../state/config';

export {
  FORMATS,
  PATTERN_EXPECTATIONS,
  NAME_PATTERN,
  TOKEN_PATTERN,
  PATH_PATTERN,
  HEADER_VALUE_PATTERN,
} from './schema-kit';

const L = D.DEFAULT_LIMITS;
const Server = OptObj('Listeners, limits and process settings.', {
  listen: Listen(D.DEFAULT_LISTEN, 'Proxy listener: host:port, [ipv6]:port, :port or a port number.'),
  admin: OptObj('The admin listener: /metrics, /health*, /admin/* and the dashboard.', {
    listen: Listen(D.DEFAULT_ADMIN_LISTEN, 'Admin listener address; off loopback it needs a token.'),
    token: Opt(Type.String({ description: 'Bearer token required by /admin/*; empty = unset.' })),
  }),
  trustProxy: Opt(
    Type.Array(Type.String({ format: 'bw-cidr' }), {
      description: "IPs or CIDRs whose X-Forwarded-* headers are trusted; default: nobody's.",
      default: [],
    }),
  ),
  limits: OptObj('Limits on what clients may send.', {
    maxBodySize: Size(L.maxBodySize, 'Largest request body accepted; larger ones get 413.'),
    maxHeaderSize: Size(L.maxHeaderSize, 'Largest request head accepted; larger ones get 431.'),
    headersTimeout: Duration(L.headersTimeout, 'Time allowed to receive the request headers.'),
    requestTimeout: Duration(L.requestTimeout, 'Time allowed to receive the whole request; 0 = none.'),
    keepAliveTimeout: Duration(L.keepAliveTimeout, 'Idle time before a keep-alive connection is closed.'),
    maxHeaderCount: Int(1, 10000, L.maxHeaderCount, 'Most request header fields accepted; more get 431.'),
    requestBuffer: Size(
      L.requestBuffer,
      'Bodies up to this size are read whole and checked before anything goes upstream; 0 = stream all.',
    ),
  }),
  slowRequest: Duration(
    undefined,
    "Requests taking at least this long are logged at warn with slow: true and counted in slow_requests_total; absent or 0 = off. Every route's default.",
  ),
  drainDelay: Duration(
    D.DEFAULT_DRAIN_DELAY,
    'SIGTERM: readiness 503 at once, keep accepting this long (load balancers catch up), then drain.',
  ),
  shutdownTimeout: Duration(
    D.DEFAULT_SHUTDOWN_TIMEOUT,
    'How long in-flight requests may finish on shutdown.',
  ),
  workers: Opt(
    Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')], {
      description: 'Worker processes; auto = one per CPU core.',
      default: D.DEFAULT_WORKERS,
    }),
  ),
  escapedSlashes: Opt(
    StringEnum(
      ['keep', 'reject'],
      D.DEFAULT_ESCAPED_SLASHES,
      'What to do with %2F / %5C inside a path segment.',
    ),
  ),
  overload: OptObj('Load shedding on event-loop lag.', {
    maxEventLoopDelay: Duration(
      D.DEFAULT_MAX_EVENT_LOOP_DELAY,
      'Shed requests while the loop lags this much; 0 = off.',
    ),
  }),
  cache: ServerCacheSchema,
  memoryWarning: Opt(
    Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Literal(false)], {
      description:
        'Warn (one line per crossing) when max(heap used / heap limit, rss / cgroup memory limit) reaches this ratio, in (0, 1]; false = no lines (the gauge stays).',
      default: D.DEFAULT_MEMORY_WARNING,
    }),
  ),
  memoryCheckInterval: PositiveDuration(
    D.DEFAULT_MEMORY_CHECK_INTERVAL,
    'How often memory use is sampled (breakwater_memory_usage_ratio, memoryWarning).',
  ),
  // Edge policies: the default of every route; a route's own block (or `false`) replaces it.
  securityHeaders: SecurityHeadersSchema,
  cors: CorsSchema,
  compression: CompressionSchema,
  headers: HeadersSchema,
  fault: FaultSchema,
  slowDown: SlowDownSchema,
  errors: ServerErrorsSchema,
});

const CB = D.DEFAULT_CIRCUIT_BREAKER;
/** Shared by the upstream breaker (with defaults) and the route override (which inherits instead). */
const breakerSettings = (defaults: typeof CB | undefined) => ({
  errorThresholdPercentage: Opt(
    Type.Number({
      description: 'Failure percentage in the window that opens the breaker.',
      minimum: 1,
      maximum: 100,
      ...withDefault(defaults?.errorThresholdPercentage),
    }),
  ),
  volumeThreshold: Int(0, undefined, defaults?.volumeThreshold, 'Requests in the window before it may open.'),
  window: PositiveDuration(defaults?.window, 'Rolling window the failure percentage is measured over.'),
  resetTimeout: PositiveDuration(defaults?.resetTimeout, 'How long it stays open before a trial request.'),
});

const HC = D.DEFAULT_HEALTH_CHECK;
const OD = D.DEFAULT_OUTLIER_DETECTION;
const Upstream = Obj('An upstream service: its targets and how they are protected.', {
  targets: Type.Array(
    Type.Union([
      TargetUrl('Target URL such as http://10.0.0.5:3000 (weight 1).'),
      Obj('A weighted target.', {
        url: TargetUrl('Target URL such as http://10.0.0.5:3000 (no path).'),
        weight: Int(
          0,
          undefined,
          D.DEFAULT_TARGET_WEIGHT,
          'Share of traffic relative to the others; 0 = none.',
        ),
      }),
    ]),
    { minItems: 1, description: 'Backend instances: URLs, or {url, weight}.' },
  ),
  balance: Opt(
    StringEnum(['round_robin', 'least_request', 'random'], D.DEFAULT_BALANCE, 'How a target is picked.'),
  ),
  connect: OptObj('Connection pool settings.', {
    timeout: PositiveDuration(D.DEFAULT_CONNECT.timeout, 'Time allowed to open a connection.'),
    maxConnections: Int(1, undefined, D.DEFAULT_CONNECT.maxConnections, 'Connections per target.'),
  }),
  healthCheck: OptObj('Active health checks; absent = off.', {
    path: Type.String({
      pattern: PROBE_PATH_PATTERN,
      description: 'Path probed on each target, such as /healthz.',
    }),
    interval: PositiveDuration(HC.interval, 'Time between probes.'),
    timeout: PositiveDuration(HC.timeout, 'Time allowed for one probe.'),
    healthyThreshold: Int(
      1,
      undefined,
      HC.healthyThreshold,
      'Passing probes in a row that mark a target healthy.',
    ),
    unhealthyThreshold: Int(
      1,
      undefined,
      HC.unhealthyThreshold,
      'Failing probes in a row that mark it unhealthy.',
    ),
    expectStatus: StatusSpec(HC.expectStatus, 'Statuses that pass: "200-399", 204, or a list.'),
  }),
  outlierDetection: OptObj('Passive ejection of failing targets; absent = off.', {
    consecutiveFailures: Int(1, undefined, OD.consecutiveFailures, 'Failures in a row that eject a target.'),
    ejectFor: PositiveDuration(OD.ejectFor, 'First ejection; each repeat multiplies it.'),
    maxEjectFor: PositiveDuration(OD.maxEjectFor, 'Longest ejection.'),
    maxEjectedPercent: Int(0, 100, OD.maxEjectedPercent, 'Most targets ejected at once, in percent.'),
  }),
  circuitBreaker: OptObj('Circuit breaker; absent = off.', {
    scope: Opt(
      StringEnum(['route', 'upstream'], 'route', 'route: one breaker per route; upstream: one for all.'),
    ),
    ...breakerSettings(CB),
  }),
  maxConcurrent: Int(
    1,
    undefined,
    undefined,
    'Bulkhead: in-flight requests allowed, beyond it 503; absent = no limit.',
  ),
  failureStatuses: StatusSpec(
    D.DEFAULT_FAILURE_STATUSES,
    'Statuses that count as failures (breakers, ejection).',
  ),
  failOpen: Bool(D.DEFAULT_FAIL_OPEN, 'When every target is out, use them all anyway instead of 503.'),
  critical: Bool(D.DEFAULT_CRITICAL, 'Whether /health/ready fails when this upstream has no healthy target.'),
});

const R = D.DEFAULT_RETRY;
const RETRY_CONDITIONS = ['connect-failure', 'reset', 'timeout'] as const;
const Retry = OptObj('Retries; absent = one attempt.', {
  attempts: Int(1, 10, R.attempts, 'Total tries, the first included.'),
  perTryTimeout: PositiveDuration(
    undefined,
    'Deadline of each try; default: what is left of the route timeout.',
  ),
  on: Opt(
    Type.Array(Type.Union([StringEnum(RETRY_CONDITIONS, undefined, 'A transport failure.'), Status]), {
      description: 'What is retried: connect-failure, reset, timeout, or a status.',
      default: [...R.on],
    }),
  ),
  methods: Tokens(R.methods, 'Methods that may be retried; idempotent ones by default.'),
  idempotencyKey: Bool(R.idempotencyKey, 'Also retry other methods that carry an Idempotency-Key header.'),
  maxBufferSize: Size(
    R.maxBufferSize,
    'Bodies up to this size are buffered for replay; larger are not retried.',
  ),
  backoff: OptObj('Exponential backoff with full jitter between tries.', {
    base: Duration(R.backoff.base, 'First backoff; doubles each retry.'),
    max: Duration(R.backoff.max, 'Longest backoff.'),
    maxRetryAfter: Duration(R.backoff.maxRetryAfter, 'Longest upstream Retry-After honoured.'),
  }),
  budget: OptObj('Caps retries so they cannot multiply an outage.', {
    ratio: Opt(
      Type.Number({
        description: 'Retries per request allowed.',
        minimum: 0,
        maximum: 10,
        default: R.budget.ratio,
      }),
    ),
    minPerSecond: Int(0, undefined, R.budget.minPerSecond, 'Retries always allowed per second.'),
  }),
});

const FALLBACK_TRIGGERS = [
  'circuit-open',
  'no-healthy-upstream',
  'overloaded',
  'timeout',
  'unavailable',
  '5xx',
] as const;
const Fallback = OptObj('Static response used when the upstream fails.', {
  status: Int(100, 599, D.DEFAULT_FALLBACK.status, 'Status of the fallback response.'),
  headers: HeaderMap('Headers of the fallback response.'),
  body: Opt(Type.String({ description: 'Body of the fallback response.', default: D.DEFAULT_FALLBACK.body })),
  on: Opt(
    Type.Array(StringEnum(FALLBACK_TRIGGERS, undefined, 'A failure the fallback replaces.'), {
      description: 'Failures answered with the fallback; add 5xx to replace upstream 5xx too.',
      default: [...D.DEFAULT_FALLBACK.on],
    }),
  ),
});

const Route = Obj('A route: which requests, which upstream, which policies.', {
  name: Type.String({ pattern: NAME_PATTERN, description: 'Unique route name, used as a metrics label.' }),
  match: OptObj('Which requests this route takes; absent = all.', {
    host: Opt(
      Type.Union([Host, Type.Array(Host, { minItems: 1 })], {
        description: 'Host name(s), exact or *.example.com; case-insensitive, port ignored.',
      }),
    ),
    pathPrefix: Path('Matches this path and everything below it, on whole segments.'),
    path: Path('Matches exactly this path.'),
    methods: Tokens(undefined, 'Methods matched; absent = any.'),
    headers: HeaderMap('Request headers that must have exactly these values.'),
  }),
  upstream: Type.String({ description: 'Name of the upstream that serves this route.' }),
  rewrite: OptObj('Path rewrites before forwarding.', {
    stripPrefix: Path('Removed from the start of the path.'),
    addPrefix: Path('Added to the start of the path.'),
  }),
  hostHeader: Opt(
    Type.String({
      pattern: VISIBLE_ASCII_PATTERN,
      description: "Host sent upstream: preserve (the client's), target (the target's), or a literal value.",
      default: D.DEFAULT_HOST_HEADER,
    }),
  ),
  timeout: PositiveDuration(D.DEFAULT_ROUTE_TIMEOUT, 'Whole-request deadline, every retry included.'),
  slowRequest: Duration(
    undefined,
    "This route's slow-request threshold (overrides server.slowRequest); 0 = off for this route.",
  ),
  retry: Retry,
  circuitBreaker: OptObj(
    "Overrides the upstream breaker's settings; turns one on if it has none.",
    breakerSettings(undefined),
  ),
  maxConcurrent: Int(1, undefined, undefined, 'Bulkhead for this route; absent = no limit.'),
  fallback: Fallback,
  websocket: Bool(false, 'Allow WebSocket upgrades on this route; otherwise Upgrade is stripped.'),
  rateLimit: RateLimitSchema,
  slowDown: Switchable(
    SlowDownSchema,
    'Progressive delay before the hard limit; false = off (also for a server default).',
  ),
  cache: CacheSchema,
  securityHeaders: SecurityHeadersSchema,
  cors: CorsSchema,
  compression: CompressionSchema,
  headers: HeadersSchema,
  fault: FaultSchema,
  errors: ErrorsSchema,
});

/** The whole of gateway.yaml. */
export const GatewaySchema = Type.Object(
  {
    version: Type.Literal(1, { description: 'Config format version; must be 1.' }),
    server: Server,
    upstreams: MapOf(NAME_PATTERN, Upstream, 'Upstream services by name.', 1),
    routes: Type.Array(Route, { minItems: 1, description: 'Routes; the first match wins, in file order.' }),
    redis: RedisSchema,
    consumers: ConsumersSchema,
    tiers: TiersSchema,
    sharedLimits: SharedLimitsSchema,
  },
  { additionalProperties: false, description: 'breakwater gateway configuration.' },
);

/** gateway.yaml as written, before defaults and unit parsing. */
export type RawGatewayConfig = Static<typeof GatewaySchema>;
export type RawServer = NonNullable<RawGatewayConfig['server']>;
export type RawUpstream = RawGatewayConfig['upstreams'][string];
export type RawRoute = RawGatewayConfig['routes'][number];

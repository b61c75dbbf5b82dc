import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { loadConfig, parseConfig } from './load';
import type { GatewayConfig } from './types';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'breakwater-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(text: string, name = 'gateway.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const MINIMAL = `version: 1
upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
`;

it('applies every default to a minimal config', () => {
  const file = write(MINIMAL);
  const expected: GatewayConfig = {
    version: 1,
    source: file,
    server: {
      listen: { host: '0.0.0.0', port: 8080 },
      admin: { listen: { host: '127.0.0.1', port: 9090 }, token: undefined },
      trustProxy: [],
      slowRequestMs: undefined,
      limits: {
        maxBodyBytes: 10 * 1024 * 1024,
        maxHeaderBytes: 16 * 1024,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 60_000,
        keepAliveTimeoutMs: 75_000,
        maxHeaderCount: 100,
        requestBufferBytes: 64 * 1024,
      },
      shutdownTimeoutMs: 30_000,
      drainDelayMs: 0,
      workers: 1,
      escapedSlashes: 'keep',
      overload: { maxEventLoopDelayMs: 200 },
      cache: { maxBytes: 100 * 1024 * 1024 },
      memoryWarning: 0.9,
      memoryCheckIntervalMs: 5_000,
      securityHeaders: undefined,
      cors: undefined,
      compression: undefined,
      headers: undefined,
      fault: undefined,
      slowDown: undefined,
      errors: 'pass',
    },
    upstreams: {
      users: {
        name: 'users',
        targets: [{ url: 'http://127.0.0.1:3000', origin: 'http://127.0.0.1:3000', weight: 1 }],
        balance: 'round_robin',
        connect: { timeoutMs: 5_000, maxConnections: 256 },
        healthCheck: undefined,
        outlierDetection: undefined,
        circuitBreaker: undefined,
        maxConcurrent: undefined,
        failureStatuses: [{ from: 500, to: 599 }],
        failOpen: false,
        critical: true,
      },
    },
    routes: [
      {
        name: 'users',
        match: { hosts: [], pathPrefix: undefined, path: undefined, methods: [], headers: {} },
        upstream: 'users',
        rewrite: undefined,
        hostHeader: { kind: 'preserve' },
        timeoutMs: 30_000,
        slowRequestMs: undefined,
        retry: undefined,
        circuitBreaker: undefined,
        maxConcurrent: undefined,
        fallback: undefined,
        websocket: false,
        rateLimit: [],
        slowDown: undefined,
        cache: undefined,
        securityHeaders: undefined,
        cors: undefined,
        compression: undefined,
        headers: undefined,
        fault: undefined,
        errors: 'pass',
      },
    ],
    redis: undefined,
    consumers: undefined,
    tiers: {},
  };
  expect(loadConfig(file, {})).toStrictEqual(expected);
});

const FULL = `# yaml-language-server: $schema=../config/gateway.schema.json
version: 1
server:
  listen: "[::1]:8443"
  admin: { listen: ":9191", token: "\${ADMIN_TOKEN}" }
  trustProxy: [10.0.0.0/8, 192.168.1.7]
  limits: { maxBodySize: 1mb, maxHeaderSize: 8kb, maxHeaderCount: 200, requestBuffer: 32kb, headersTimeout: 5s, requestTimeout: 30s, keepAliveTimeout: 2s }
  shutdownTimeout: 10s
  drainDelay: 3s
  cache: { maxSize: 10mb }
  workers: auto
  escapedSlashes: reject
  overload: { maxEventLoopDelay: 0 }
  errors: mask
  memoryWarning: 0.8
  memoryCheckInterval: 10s
upstreams:
  users:
    targets:
      - url: http://10.0.0.5:3000
        weight: 2
      - https://users.internal
    balance: least_request
    connect: { timeout: 1s, maxConnections: 64 }
    healthCheck: { path: /healthz, interval: 2s, timeout: 500ms, healthyThreshold: 1, unhealthyThreshold: 2, expectStatus: [200, "204-299"] }
    outlierDetection: { consecutiveFailures: 3, ejectFor: 10s, maxEjectFor: 1m, maxEjectedPercent: 25 }
    circuitBreaker:
      scope: route
      <<: &breaker { errorThresholdPercentage: 40, volumeThreshold: 10, window: 20s, resetTimeout: 15s }
    maxConcurrent: 1000
    failureStatuses: 502-504
    failOpen: true
    critical: false
routes:
  - name: users-api
    match: { host: [API.Example.com, "*.example.org"], pathPrefix: /users/, methods: [get, Post], headers: { X-Tenant: acme } }
    upstream: users
    rewrite: { stripPrefix: /users, addPrefix: /v1 }
    hostHeader: target
    timeout: 5s
    retry:
      attempts: 2
      perTryTimeout: 2s
      on: [connect-failure, timeout, 503]
      methods: [get]
      idempotencyKey: true
      maxBufferSize: 1kb
      backoff: { base: 10ms, max: 100ms, maxRetryAfter: 1s }
      budget: { ratio: 0.5, minPerSecond: 1 }
    circuitBreaker: { <<: *breaker, window: 5s }
    maxConcurrent: 10
    fallback: { status: 200, headers: { Content-Type: application/json }, body: '{"degraded":true}', on: [circuit-open, 5xx] }
    websocket: true
    rateLimit:
      - { key: ip, limit: 1000, window: 15m, burst: 10, headers: legacy }
      - { key: "header:X-Api-Key", limit: 5, window: 1s, methods: [post], mode: shadow }
      - { key: consumer }
    slowDown: { after: 50, delay: 50ms, maxDelay: 1s, window: 1m }
    cache: { ttl: 10s, staleIfError: 1h, staleWhileRevalidate: 5s }
    errors: pass
  - name: exact
    match: { path: /status }
    upstream: users
    hostHeader: static.example.com
redis: { url: "redis://:pw@cache.internal:6380/2", keyPrefix: "gw:" }
consumers:
  header: X-Api-Key
  keys: { "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08": pro }
  defaultTier: free
tiers:
  free: { limit: 20, window: 1m }
  pro: { limit: 100, window: 1m, burst: 5, upgrade: "https://example.com/pricing" }
`;

it('round-trips a config that sets every key', () => {
  const config = loadConfig(write(FULL), { ADMIN_TOKEN: 't0ken' });
  expect(config.server).toEqual({
    listen: { host: '::1', port: 8443 },
    admin: { listen: { host: '0.0.0.0', port: 9191 }, token: 't0ken' },
    trustProxy: ['10.0.0.0/8', '192.168.1.7/32'],
    limits: {
      maxBodyBytes: 1024 * 1024,
      maxHeaderBytes: 8192,
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 2_000,
      maxHeaderCount: 200,
      requestBufferBytes: 32 * 1024,
    },
    shutdownTimeoutMs: 10_000,
    drainDelayMs: 3_000,
    cache: { maxBytes: 10 * 1024 * 1024 },
    workers: 'auto',
    escapedSlashes: 'reject',
    overload: { maxEventLoopDelayMs: 0 },
    errors: 'mask',
    memoryWarning: 0.8,
    memoryCheckIntervalMs: 10_000,
  });
  expect(config.upstreams.users).toEqual({
    name: 'users',
    targets: [
      { url: 'http://10.0.0.5:3000', origin: 'http://10.0.0.5:3000', weight: 2 },
      { url: 'https://users.internal', origin: 'https://users.internal', weight: 1 },
    ],
    balance: 'least_request',
    connect: { timeoutMs: 1_000, maxConnections: 64 },
    healthCheck: {
      path: '/healthz',
      intervalMs: 2_000,
      timeoutMs: 500,
      healthyThreshold: 1,
      unhealthyThreshold: 2,
      expectStatus: [
        { from: 200, to: 200 },
        { from: 204, to: 299 },
      ],
    },
    outlierDetection: {
      consecutiveFailures: 3,
      ejectForMs: 10_000,
      maxEjectForMs: 60_000,
      maxEjectedPercent: 25,
    },
    circuitBreaker: {
      scope: 'route',
      errorThresholdPercentage: 40,
      volumeThreshold: 10,
      windowMs: 20_000,
      resetTimeoutMs: 15_000,
    },
    maxConcurrent: 1000,
    failureStatuses: [{ from: 502, to: 504 }],
    failOpen: true,
    critical: false,
  });
  const [api, exact] = config.routes;
  expect(api).toEqual({
    name: 'users-api',
    match: {
      hosts: ['api.example.com', '*.example.org'],
      pathPrefix: '/users',
      path: undefined,
      methods: ['GET', 'POST'],
      headers: { 'x-tenant': 'acme' },
    },
    upstream: 'users',
    rewrite: { stripPrefix: '/users', addPrefix: '/v1' },
    hostHeader: { kind: 'target' },
    timeoutMs: 5_000,
    retry: {
      attempts: 2,
      perTryTimeoutMs: 2_000,
      on: ['connect-failure', 'timeout', 503],
      methods: ['GET'],
      idempotencyKey: true,
      maxBufferBytes: 1024,
      backoff: { baseMs: 10, maxMs: 100, maxRetryAfterMs: 1_000 },
      budget: { ratio: 0.5, minPerSecond: 1 },
    },
    circuitBreaker: {
      errorThresholdPercentage: 40,
      volumeThreshold: 10,
      windowMs: 5_000,
      resetTimeoutMs: 15_000,
    },
    maxConcurrent: 10,
    fallback: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"degraded":true}',
      on: ['circuit-open', '5xx'],
    },
    websocket: true,
    rateLimit: [
      {
        key: { kind: 'ip' },
        limit: 1000,
        windowMs: 900_000,
        burst: 10,
        methods: [],
        mode: 'enforce',
        headers: 'legacy',
      },
      {
        key: { kind: 'header', name: 'x-api-key' },
        limit: 5,
        windowMs: 1_000,
        burst: 0,
        methods: ['POST'],
        mode: 'shadow',
        headers: 'standard',
      },
      {
        key: { kind: 'consumer' },
        limit: 0,
        windowMs: 0,
        burst: 0,
        methods: [],
        mode: 'enforce',
        headers: 'standard',
      },
    ],
    slowDown: { key: { kind: 'ip' }, after: 50, delayMs: 50, maxDelayMs: 1_000, windowMs: 60_000 },
    cache: { ttlMs: 10_000, staleIfErrorMs: 3_600_000, staleWhileRevalidateMs: 5_000 },
    errors: 'pass',
  });
  expect(exact?.match.path).toBe('/status');
  expect(exact?.errors).toBe('mask');
  expect(exact?.rateLimit).toEqual([]);
  expect(exact?.websocket).toBe(false);
  expect(config.redis).toEqual({ url: 'redis://:pw@cache.internal:6380/2', keyPrefix: 'gw:' });
  expect(config.consumers).toEqual({
    header: 'x-api-key',
    keys: { '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08': 'pro' },
    defaultTier: 'free',
  });
  expect(config.tiers).toEqual({
    free: { name: 'free', limit: 20, windowMs: 60_000, burst: 0, upgrade: undefined },
    pro: { name: 'pro', limit: 100, windowMs: 60_000, burst: 5, upgrade: 'https://example.com/pricing' },
  });
  expect(exact?.hostHeader).toEqual({ kind: 'value', value: 'static.example.com' });
});

it('fills a route breaker from the upstream breaker, or turns one on with the defaults', () => {
  const text = MINIMAL.replace(
    '    upstream: users',
    '    upstream: users\n    circuitBreaker: {volumeThreshold: 5}',
  );
  expect(parseConfig(text, 'gateway.yaml', {}).routes[0]?.circuitBreaker).toEqual({
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    windowMs: 10_000,
    resetTimeoutMs: 30_000,
  });
});

it('keeps "/" as a path prefix and trims trailing slashes from others', () => {
  const text = `${MINIMAL}    match: {pathPrefix: /}\n  - name: b\n    upstream: users\n    match: {pathPrefix: /b//}\n`;
  expect(parseConfig(text, 'gateway.yaml', {}).routes.map((r) => r.match.pathPrefix)).toEqual(['/', '/b']);
});

it('returns a deep-frozen config', () => {
  const config = loadConfig(write(FULL), { ADMIN_TOKEN: 'x' });
  expect(Object.isFrozen(config)).toBe(true);
  expect(Object.isFrozen(config.server.limits)).toBe(true);
  expect(Object.isFrozen(config.upstreams.users?.targets[0])).toBe(true);
  expect(Object.isFrozen(config.routes[0]?.retry?.on)).toBe(true);
  expect(() => {
    (config.server.limits as { maxBodyBytes: number }).maxBodyBytes = 1;
  }).toThrow(TypeError);
});

it('reads the environment it is given, not only process.env', () => {
  const file = write(MINIMAL.replace('[http://127.0.0.1:3000]', '\n      - ${UPSTREAM_URL}'));
  expect(loadConfig(file, { UPSTREAM_URL: 'http://10.1.1.1:80' }).upstreams.users?.targets[0]?.origin).toBe(
    'http://10.1.1.1',
  );
});

it('names the file as given in every message', () => {
  const file = write(MINIMAL.replace('version: 1', 'version: 3'));
  expect(() => loadConfig(file, {})).toThrow(`${file}:1:10: version: expected 1, got 3`);
});

it.each([
  ['a missing file', (d: string) => join(d, 'nope.yaml'), 'no such file'],
  ['a directory', (d: string) => d, 'it is a directory'],
])('reports %s as one issue without a position', (_kind, path, reason) => {
  const file = path(dir);
  let error: unknown;
  try {
    loadConfig(file, {});
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).issues).toEqual([
    { file, line: 0, col: 0, path: '', message: `cannot read the config file: ${reason}` },
  ]);
  expect((error as ConfigError).message).toBe(`${file}: cannot read the config file: ${reason}`);
});

/**
 * @module pipeline/build
 * Builds a RouteTable from a validated config: upstreams (reusing the previous table's when
 * their settings did not change), each route's stage chain in THE pipeline order, the matcher.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig, RouteConfig, UpstreamConfig } from '../config/types';
import type { GatewayEvents } from '../observability/events';
import type { Logger } from '../observability/logger';
import { compileTrustProxy } from '../http/trust-proxy';
import { compileRouter } from '../routing/router';
import { compileRewrite } from '../routing/rewrite';
import { bulkhead } from '../policies/bulkhead';
import { EventLoopMonitor } from '../policies/bulkhead/event-loop-monitor';
import { cache } from '../policies/cache';
import { cacheInvalidation } from '../policies/cache/invalidate';
import { circuitBreaker } from '../policies/circuit-breaker';
import { compression } from '../policies/compression';
import { cors, preflightMethod } from '../policies/cors';
import { errorMask } from '../policies/error-mask';
import { fallback } from '../policies/fallback';
import { fault } from '../policies/fault';
import { headers } from '../policies/headers';
import { keySharingFactory, rateLimitFactory, slowDown } from '../policies/rate-limit';
import { retry } from '../policies/retry';
import { securityHeaders } from '../policies/security-headers';
import type { SharedState } from '../state/shared-state';
import { upgradeAllowed } from '../http/websocket';
import { createForwarder } from '../upstream/forward';
import { Upstream } from '../upstream/upstream';
import type { CompiledRoute } from './compiled-route';
import { compose } from './compose';
import { compileRefusalHeaders } from './refusal-headers';
import type { RouteTable } from './route-table';
import { SYSTEM_CLOCK, type Next, type Stage, type StageDeps, type StageFactory } from './stage';
import { StateStore } from './state-store';

/** What a build needs from the running gateway besides the config. */
export interface BuildOptions {
  readonly shared?: SharedState;
  /** true in cluster workers: limits are counted in the primary. */
  readonly clustered?: boolean;
  /** Where policies write their own lines (shadow-mode overages). */
  readonly log?: Logger;
}

/**
 * THE order, outermost first (DESIGN.md "Request pipeline"), one reason per position. Each
 * factory is asked for its config slice; a policy a route does not use is absent from its chain.
 */
export function pipeline(config: GatewayConfig, log?: Logger): readonly StageFactory<unknown>[] {
  return [
    // Outermost: a preflight is answered before anything counts it; every answer (429 included) gets CORS.
    cors,
    // Every answer of the route, the gateway's own included, gets them.
    securityHeaders,
    // Request changes before anything goes upstream; response changes on every answer.
    headers,
    // Outside the rate limit and cache: every answer can be compressed, stored bodies stay identity.
    compression,
    // Before the limit: a request refused for a shared API key spends no rate-limit points.
    keySharingFactory(config.consumers, log),
    // Cheapest rejection first: a client over its limit costs a counter, nothing else.
    rateLimitFactory(config.consumers, config.tiers, log),
    // Right after the limit it slows: a delayed request has already been counted.
    slowDown,
    // Outside the fallback and the cache: a static 5xx fallback wins, a stale answer is a good one.
    errorMask,
    // Outside the cache: a static body replaces only what the stale cache could not save.
    fallback,
    // Fresh hits skip everything below; on failure a stale entry answers before the fallback.
    cache,
    // Routes without a cache: a successful write still drops the cached copies of its URL.
    cacheInvalidation(config),
    // Below the cache and fallback (a fault looks like an upstream failure to them), above the bulkhead (no slot taken).
    fault,
    // Before retries: one request holds one slot however many attempts it makes; sheds cheaply.
    bulkhead,
    // Inside the bulkhead, outside the breaker: every attempt goes through (and is counted by) the breaker.
    retry,
    // Innermost policy: retries call through it, so every attempt counts and an open breaker stops them.
    circuitBreaker,
  ] as readonly StageFactory<unknown>[];
}

export function buildRouteTable(
  config: GatewayConfig,
  events: GatewayEvents,
  previous?: RouteTable,
  options: BuildOptions = {},
): RouteTable {
  const state = new StateStore(previous?.state);
  const upstreams = buildUpstreams(config, events, previous);
  const deps: StageDeps = {
    events,
    state,
    upstreams,
    shared: options.shared,
    clustered: options.clustered ?? false,
    clock: SYSTEM_CLOCK,
    server: config.server,
  };
  const forward = createForwarder(events);
  const factories = pipeline(config, options.log);
  const routes = config.routes.map((route) =>
    compileRoute(route, upstreams.get(route.upstream)!, config, deps, factories, forward),
  );
  const byConfig = new Map<RouteConfig, CompiledRoute>(routes.map((r) => [r.config, r]));
  const router = compileRouter(config.routes);
  const lagLimitMs = config.server.overload.maxEventLoopDelayMs;
  const trust = compileTrustProxy(config.server.trustProxy);
  return {
    config,
    version: configVersion(config),
    routes,
    upstreams,
    state,
    trust,
    refusalHeaders: compileRefusalHeaders(config.server, trust),
    maxRawHeaders: config.server.limits.maxHeaderCount * 2,
    requestBufferBytes: config.server.limits.requestBufferBytes,
    overload:
      lagLimitMs > 0
        ? state.keep(`event-loop:${lagLimitMs}`, () => new EventLoopMonitor(lagLimitMs))
        : undefined,
    match(host, path, method, headers) {
      const matched = router.match(host, path, method, headers);
      if (matched) return byConfig.get(matched);
      // A CORS preflight goes to the route of the method it asks about, when that route answers CORS.
      const asked = preflightMethod(method, headers);
      const preflighted = asked === undefined ? undefined : router.match(host, path, asked, headers);
      return preflighted?.cors ? byConfig.get(preflighted) : undefined;
    },
  };
}

/** Upstreams whose settings are unchanged keep their pools (and, later, health and breakers). */
function buildUpstreams(
  config: GatewayConfig,
  events: GatewayEvents,
  previous: RouteTable | undefined,
): Map<string, Upstream> {
  const upstreams = new Map<string, Upstream>();
  for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
    const old = previous?.upstreams.get(name);
    upstreams.set(
      name,
      old && sameSettings(old.config, upstreamConfig) ? old : new Upstream(upstreamConfig, events),
    );
  }
  return upstreams;
}

function sameSettings(a: UpstreamConfig, b: UpstreamConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** One policy's stage for a route (select its slice, then create), or undefined when off. */
export function createStage<C>(
  factory: StageFactory<C>,
  route: RouteConfig,
  upstream: Upstream,
  deps: StageDeps,
  server: GatewayConfig['server'] = deps.server,
): Stage | undefined {
  const slice = factory.select(route, upstream.config, server);
  return slice === undefined
    ? undefined
    : factory.create(slice, deps, { route: route.name, upstream: upstream.name });
}

/** The stages a WebSocket upgrade passes: the rest (cache, retries, breaker) are about HTTP answers. */
const UPGRADE_KINDS: ReadonlySet<string> = new Set(['key-sharing', 'rate-limit', 'slow-down']);

function compileRoute(
  route: RouteConfig,
  upstream: Upstream,
  config: GatewayConfig,
  deps: StageDeps,
  factories: readonly StageFactory<unknown>[],
  forward: Next,
): CompiledRoute {
  const stages: Stage[] = [];
  const upgradeStages: Stage[] = [];
  const chain: string[] = [];
  for (const factory of factories) {
    const stage = createStage(factory, route, upstream, deps, config.server);
    if (stage) {
      stages.push(stage);
      chain.push(factory.kind);
      if (UPGRADE_KINDS.has(factory.kind)) upgradeStages.push(stage);
    }
  }
  chain.push('forward');
  return {
    name: route.name,
    config: route,
    upstream,
    timeoutMs: route.timeoutMs,
    rewrite: compileRewrite(route.rewrite),
    hostHeader: hostHeaderFor(route),
    handle: compose(stages, forward),
    upgrade: route.websocket ? compose(upgradeStages, upgradeAllowed) : undefined,
    maxBodyBytes: config.server.limits.maxBodyBytes,
    slowMs: route.slowRequestMs,
    chain,
  };
}

function hostHeaderFor(route: RouteConfig): CompiledRoute['hostHeader'] {
  const mode = route.hostHeader;
  switch (mode.kind) {
    case 'preserve':
      return (req: IncomingMessage) => req.headers.host;
    case 'target':
      return () => undefined;
    case 'value':
      return () => mode.value;
  }
}

/**
 * How the upstreams changed between two tables: the ones to start (new, or rebuilt because
 * their settings changed) and the ones to close after the swap.
 */
export function upstreamChanges(
  previous: RouteTable,
  next: RouteTable,
): { started: Upstream[]; retired: Upstream[] } {
  const before = new Set(previous.upstreams.values());
  const after = new Set(next.upstreams.values());
  return {
    started: [...after].filter((u) => !before.has(u)),
    retired: [...before].filter((u) => !after.has(u)),
  };
}

export function configVersion(config: GatewayConfig): string {
  const { source: _source, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12);
}

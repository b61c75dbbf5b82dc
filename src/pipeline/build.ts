/**
 * @module pipeline/build
 * Builds a RouteTable from a validated config: upstreams (reusing the previous table's when
 * their settings did not change), each route's stage chain in THE pipeline order, the matcher.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig, RouteConfig, ServerConfig, UpstreamConfig } from '../config/types';
import type { GatewayEvents } from '../observability/events';
import { compileTrustProxy } from '../http/trust-proxy';
import { compileRouter } from '../routing/router';
import { compileRewrite } from '../routing/rewrite';
import { bulkhead } from '../policies/bulkhead';
import { circuitBreaker } from '../policies/circuit-breaker';
import { fallback } from '../policies/fallback';
import { retry } from '../policies/retry';
import { createForwarder } from '../upstream/forward';
import { Upstream } from '../upstream/upstream';
import type { CompiledRoute } from './compiled-route';
import { compose } from './compose';
import type { RouteTable } from './route-table';
import type { Next, Stage } from './stage';
import { StateStore } from './state-store';

export interface BuildDeps {
  readonly events: GatewayEvents;
  readonly server: ServerConfig;
  /** State that outlives a reload when its settings are unchanged (see state-store.ts). */
  readonly state: StateStore;
}

/** A policy stage as the builder sees it: `create` returns undefined when the route has it off. */
export interface StageFactory {
  readonly kind: string;
  create(route: RouteConfig, upstream: Upstream, deps: BuildDeps): Stage | undefined;
}

/**
 * THE order, outermost first (DESIGN.md "Request pipeline"). Rate limits and the cache slot in
 * ahead of these as they land.
 */
export const PIPELINE: readonly StageFactory[] = [
  // Outermost: sees the final outcome after every retry and replaces a failure with the static reply.
  fallback,
  // Before retries: one request holds one slot however many attempts it makes; sheds cheaply.
  bulkhead,
  // Inside the bulkhead, outside the breaker: every attempt goes through (and is counted by) the breaker.
  retry,
  // Innermost policy: retries call through it, so every attempt counts and an open breaker stops them.
  circuitBreaker,
];

export function buildRouteTable(
  config: GatewayConfig,
  events: GatewayEvents,
  previous?: RouteTable,
): RouteTable {
  const deps: BuildDeps = { events, server: config.server, state: new StateStore(previous?.state) };
  const upstreams = buildUpstreams(config, events, previous);
  const forward = createForwarder(deps.events);
  const routes = config.routes.map((route) =>
    compileRoute(route, upstreams.get(route.upstream)!, config, deps, forward),
  );
  const byConfig = new Map<RouteConfig, CompiledRoute>(routes.map((r) => [r.config, r]));
  const router = compileRouter(config.routes);
  return {
    config,
    version: configVersion(config),
    routes,
    upstreams,
    state: deps.state,
    trust: compileTrustProxy(config.server.trustProxy),
    match(host, path, method, headers) {
      const matched = router.match(host, path, method, headers);
      return matched && byConfig.get(matched);
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

function compileRoute(
  route: RouteConfig,
  upstream: Upstream,
  config: GatewayConfig,
  deps: BuildDeps,
  forward: Next,
): CompiledRoute {
  const stages: Stage[] = [];
  const chain: string[] = [];
  for (const factory of PIPELINE) {
    const stage = factory.create(route, upstream, deps);
    if (stage) {
      stages.push(stage);
      chain.push(factory.kind);
    }
  }
  chain.push('forward');
  return {
    name: route.name,
    config: route,
    upstream,
    rewrite: compileRewrite(route.rewrite),
    hostHeader: hostHeaderFor(route),
    handle: compose(stages, forward),
    maxBodyBytes: config.server.limits.maxBodyBytes,
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

function configVersion(config: GatewayConfig): string {
  const { source: _source, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12);
}

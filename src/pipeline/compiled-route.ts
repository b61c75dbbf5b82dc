/**
 * @module pipeline/compiled-route
 * A route as the request path sees it: config, its upstream, the rewrite and the composed
 * stage chain, all built once per config.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../config/types';
import type { Upstream } from '../upstream/upstream';
import type { RouteRef } from './exchange';
import type { Next } from './stage';

export interface CompiledRoute extends RouteRef {
  readonly config: RouteConfig;
  /** undefined when the route has no rewrite, so the hot path skips it. */
  readonly rewrite: ((path: string) => string) | undefined;
  /** The Host header for the upstream; undefined lets undici send the target's host:port. */
  readonly hostHeader: (req: IncomingMessage, upstream: Upstream) => string | undefined;
  /** The composed chain, terminal forwarder included. */
  readonly handle: Next;
  /** `websocket: true`: the checks an upgrade passes (rate limit, slowDown) before it is proxied. */
  readonly upgrade: Next | undefined;
  /** Stage kinds in order, for `breakwater routes` and logs. */
  readonly chain: readonly string[];
}

/**
 * @module pipeline/route-table
 * Everything one config version needs per request, built once and swapped atomically on
 * reload: the compiled routes, the matcher, the upstreams and the trust check.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config/types';
import type { TrustCheck } from '../http/trust-proxy';
import type { EventLoopMonitor } from '../policies/bulkhead/event-loop-monitor';
import type { Upstream } from '../upstream/upstream';
import type { CompiledRoute } from './compiled-route';
import type { RefusalHeaders } from './refusal-headers';
import type { StateStore } from './state-store';

export interface RouteTable {
  readonly config: GatewayConfig;
  /** Short hash of the config, shown in /health and the config_info metric. */
  readonly version: string;
  readonly routes: readonly CompiledRoute[];
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly trust: TrustCheck;
  /** Server-default security and CORS headers for answers made before a route matched; undefined = none. */
  readonly refusalHeaders: RefusalHeaders | undefined;
  /** `limits.maxHeaderCount` × 2: the longest `req.rawHeaders` (name, value, …) accepted. */
  readonly maxRawHeaders: number;
  /** `limits.requestBuffer`: bodies up to this size are read whole before forwarding; 0 = off. */
  readonly requestBufferBytes: number;
  /** Event-loop lag watch; the handler sheds before routing while it says overloaded. undefined = off. */
  readonly overload: EventLoopMonitor | undefined;
  /** Policy state carried to the next build on reload. */
  readonly state: StateStore;
  match(
    host: string | undefined,
    path: string,
    method: string,
    headers: IncomingHttpHeaders,
  ): CompiledRoute | undefined;
}

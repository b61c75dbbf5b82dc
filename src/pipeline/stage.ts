/**
 * @module pipeline/stage
 * The contract every policy stage and the terminal forwarder share: an Exchange in, a Reply
 * out (not yet written to the client; only the HTTP server commits it), and the factory shape
 * every policy folder exports. `pipeline/build.ts` only assembles factories in THE order.
 */
import type { RouteConfig, ServerConfig, UpstreamConfig } from '../config/types';
import type { GatewayError } from '../errors';
import type { GatewayEvents } from '../observability/events';
import type { SharedState } from '../state/shared-state';
import type { Upstream } from '../upstream/upstream';
import type { Exchange } from './exchange';
import type { StateStore } from './state-store';

/** Response headers ready to write: lower-case names, hop-by-hop already removed. */
export type ReplyHeaders = Record<string, string | string[]>;

/** Called once when a body has been fully written (bytes) or failed. */
export type BodyDone = (err: Error | undefined, bytes: number) => void;

/**
 * Where a body is written: the client's ServerResponse, or a stand-in (the cache's tee, a
 * background refresh that only stores). The subset of Writable the bodies use.
 */
export interface BodySink {
  write(chunk: Buffer): boolean;
  end(callback?: () => void): unknown;
  end(chunk: Buffer, callback?: () => void): unknown;
  destroy(error?: Error): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  readonly writableNeedDrain: boolean;
  /** Sends the head now instead of with the first body chunk (ServerResponse has it). */
  flushHeaders?(): void;
}

/** A response body that has not been sent yet. */
export interface ReplyBody {
  /** Streams the body into `sink` (headers already written) and calls `done` once. */
  sendTo(sink: BodySink, done: BodyDone): void;
  /** Drops a body that will never be sent (e.g. a failed attempt being retried). */
  discard(): void;
}

/**
 * Where a Reply came from: an upstream answer, a static fallback, the cache, a gateway error, or
 * an answer the gateway gives by design (a CORS preflight).
 */
export type ReplySource = 'upstream' | 'fallback' | 'cache' | 'error' | 'gateway';

/**
 * A response chosen by the chain. Every Reply owns its `headers` object (never shared between
 * replies), so a decorating stage (rate-limit headers, Cache-Status) may add to it in place.
 */
export interface Reply {
  readonly status: number;
  readonly headers: ReplyHeaders;
  readonly body: ReplyBody;
  readonly source: ReplySource;
  /** Set when source is 'error' (and on a fallback that replaced one): what went wrong. */
  readonly error?: GatewayError;
}

export type Next = (ex: Exchange) => Promise<Reply>;
export type Stage = (ex: Exchange, next: Next) => Promise<Reply>;

/** Time sources, injectable for pure-logic tests; the gateway passes the real clocks. */
export interface Clock {
  /** Wall-clock ms since the epoch (Date, Age, Expires, rate-limit windows). */
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: Date.now };

/** What every stage factory is given besides its own config slice. */
export interface StageDeps {
  readonly events: GatewayEvents;
  /** State that outlives a reload when its settings are unchanged (see state-store.ts). */
  readonly state: StateStore;
  /** The live upstreams of this build, by name. */
  readonly upstreams: ReadonlyMap<string, Upstream>;
  /** Redis shared by replicas and workers; undefined when `redis.url` is unset. */
  readonly shared: SharedState | undefined;
  /** Whether this process is one of several cluster workers (limits must be counted in the primary). */
  readonly clustered: boolean;
  readonly clock: Clock;
  readonly server: ServerConfig;
}

/** Which route a stage is being built for. */
export interface StageContext {
  readonly route: string;
  readonly upstream: string;
}

/** Log and metric label of each stage kind; `routes` prints them in chain order. */
export type StageKind =
  | 'cors'
  | 'security-headers'
  | 'headers'
  | 'compression'
  | 'key-sharing'
  | 'rate-limit'
  | 'slow-down'
  | 'error-mask'
  | 'fallback'
  | 'cache'
  | 'cache-invalidate'
  | 'fault'
  | 'bulkhead'
  | 'retry'
  | 'circuit-breaker';

/**
 * A policy as the builder sees it: `select` picks the policy's typed config slice out of the
 * route (and its upstream); `create` turns it into a Stage, or undefined when the policy is off
 * for this route, so a disabled stage is absent from the chain rather than skipped per request.
 */
export interface StageFactory<C> {
  readonly kind: StageKind;
  select(route: RouteConfig, upstream: UpstreamConfig, server: ServerConfig): C | undefined;
  create(config: C, deps: StageDeps, ctx: StageContext): Stage | undefined;
}

export type { Exchange };

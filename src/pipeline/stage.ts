/**
 * @module pipeline/stage
 * The contract every policy stage and the terminal forwarder share: an Exchange in, a Reply
 * out (not yet written to the client; only the HTTP server commits it).
 */
import type { ServerResponse } from 'node:http';
import type { Exchange } from './exchange';

/** Response headers ready to write: lower-case names, hop-by-hop already removed. */
export type ReplyHeaders = Record<string, string | string[]>;

/** Called once when a body has been fully written (bytes) or failed. */
export type BodyDone = (err: Error | undefined, bytes: number) => void;

/** A response body that has not been sent yet. */
export interface ReplyBody {
  /** Streams the body into `res` (headers already written) and calls `done` once. */
  sendTo(res: ServerResponse, done: BodyDone): void;
  /** Drops a body that will never be sent (e.g. a failed attempt being retried). */
  discard(): void;
}

export type ReplySource = 'upstream' | 'fallback' | 'cache';

export interface Reply {
  readonly status: number;
  readonly headers: ReplyHeaders;
  readonly body: ReplyBody;
  readonly source: ReplySource;
}

export type Next = (ex: Exchange) => Promise<Reply>;
export type Stage = (ex: Exchange, next: Next) => Promise<Reply>;

export type { Exchange };

/**
 * @module policies/error-mask
 * Pipeline position: right outside the static fallback (so a `fallback` with `on: [5xx]` still
 * replaces an upstream 5xx first) and the cache (whose stale-if-error answer is a stored good
 * response and passes untouched), inside the rate limit and the edge policies (which decorate
 * the masked answer like any other, and compression sees the final body).
 *
 * With `errors: mask`, an upstream answer with a status of 500-599 (also a stored one the cache
 * serves, and a `fault` abort, which looks like one) keeps its status, `Retry-After`, cookies and
 * cache directives but loses its body and every header that describes that body; the client gets
 * `{"error":{"code":"UPSTREAM_ERROR","message":"…","requestId":"…"}}` instead, so a stack trace,
 * SQL error or internal hostname in an upstream error page never leaves the gateway. The
 * gateway's own errors (502/503/504 and the rest) are already safe and pass as they are.
 *
 * The upstream body is read and thrown away up to `MAX_DRAIN_BYTES` (so the keep-alive
 * connection can be reused: error pages are small), and a larger one is cancelled, which closes
 * that one connection: nothing is buffered whatever the upstream sends.
 */
import type { Exchange } from '../../pipeline/exchange';
import type { BodySink, Reply, ReplyBody, ReplyHeaders, StageFactory } from '../../pipeline/stage';
import { StaticBody } from '../../pipeline/static-body';
import type { ErrorsMode } from './config';

export const UPSTREAM_ERROR_CODE = 'UPSTREAM_ERROR';
export const UPSTREAM_ERROR_MESSAGE = 'The upstream service failed to handle the request.';

/** Upstream error bodies up to this size are read to the end (connection kept); longer ones are cut. */
export const MAX_DRAIN_BYTES = 64 * 1024;

/**
 * Headers that describe the upstream's body (RFC 9110 §8 representation metadata, validators,
 * digests) and so would describe the wrong bytes, or leak where the page came from.
 */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'content-range',
  'content-disposition',
  'content-md5',
  'content-digest',
  'repr-digest',
  'digest',
  'etag',
  'last-modified',
  'accept-ranges',
]);

/** Whether `reply` is an upstream's (or a stored upstream's) 5xx, the only thing masked. */
export function isMaskable(reply: Reply): boolean {
  return (
    reply.status >= 500 && reply.status <= 599 && (reply.source === 'upstream' || reply.source === 'cache')
  );
}

/** The masked answer: same status, the gateway's error JSON, the body-describing headers dropped. */
export function maskedReply(reply: Reply, reqId: string): Reply {
  const body = Buffer.from(
    JSON.stringify({
      error: { code: UPSTREAM_ERROR_CODE, message: UPSTREAM_ERROR_MESSAGE, requestId: reqId },
    }),
  );
  const headers: ReplyHeaders = {};
  for (const name in reply.headers) if (!BODY_HEADERS.has(name)) headers[name] = reply.headers[name]!;
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(body.length);
  headers['x-request-id'] = reqId;
  return { status: reply.status, headers, body: new StaticBody(body), source: reply.source };
}

/** Reads a body nobody will see and drops its bytes; past `limit` bytes it cancels the body. */
export class DiscardSink implements BodySink {
  private bytes = 0;
  private cut = false;
  readonly writableNeedDrain = false;

  constructor(
    private readonly body: ReplyBody,
    private readonly limit: number,
  ) {}

  write(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes <= this.limit) return true;
    if (!this.cut) {
      this.cut = true;
      // Not from inside the body's own data callback: the cancel tears down what called us.
      setImmediate(() => this.body.discard());
    }
    return false;
  }

  end(chunkOrCallback?: Buffer | (() => void), callback?: () => void): void {
    const done = typeof chunkOrCallback === 'function' ? chunkOrCallback : callback;
    done?.();
  }

  destroy(): void {}

  once(): void {}
}

/** Throws away the upstream body of a masked reply without buffering it. */
export function drainBody(reply: Reply): void {
  if (reply.source !== 'upstream') return reply.body.discard();
  reply.body.sendTo(new DiscardSink(reply.body, MAX_DRAIN_BYTES), ignore);
}

function ignore(): void {}

export const errorMask: StageFactory<ErrorsMode> = {
  kind: 'error-mask',
  select: (route) => (route.errors === 'mask' ? route.errors : undefined),
  create(_mode, { events }, { route }) {
    return async function errorMaskStage(ex: Exchange, next): Promise<Reply> {
      const reply = await next(ex);
      if (!isMaskable(reply) || ex.clientGone) return reply;
      drainBody(reply);
      ex.reason ||= 'error_masked';
      events.errorMasked(route);
      return maskedReply(reply, ex.reqId);
    };
  },
};

/**
 * @module policies/retry/replayable-body
 * Reads a small request body into one Buffer before the first attempt, so the retry stage can
 * send the same bytes again (forward sends `ex.body` when it is set). Only bodies with a
 * Content-Length up to `maxBufferSize` qualify: their size is known up front, so one exact
 * allocation holds them. Larger and chunked bodies are streamed instead and never retried.
 */
import type { IncomingMessage } from 'node:http';
import { ClientGoneError, RequestTimeoutError } from '../../errors';

/** The declared body size when it is a plain decimal no larger than `maxBytes`, else undefined. */
export function bufferableLength(req: IncomingMessage, maxBytes: number): number | undefined {
  // Chunked bodies have no size to check up front; Node already rejects both headers together.
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  const declared = req.headers['content-length'];
  if (declared === undefined) return undefined;
  const length = Number(declared);
  return Number.isSafeInteger(length) && length <= maxBytes ? length : undefined;
}

/**
 * Reads exactly `length` bytes of `req`. Rejects with RequestTimeoutError when the client has
 * not sent them by `deadlineAt` (performance.now() time: the route timeout), and with
 * ClientGoneError when the client aborts or the body is cut short.
 */
export function readReplayableBody(
  req: IncomingMessage,
  length: number,
  deadlineAt: number,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const body = Buffer.allocUnsafe(length);
    let received = 0;
    const finish = (err: Error | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onAbort);
      if (err) {
        // Stop reading: nothing will be forwarded, and the error reply closes the connection.
        req.pause();
        reject(err);
      } else resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      // Node's parser holds a Content-Length body to its declared size; guard the copy anyway.
      if (received + chunk.length > length) return finish(new ClientGoneError());
      received += chunk.copy(body, received);
    };
    // 'close' before 'end' with bytes missing is a client that left mid-body.
    const onEnd = (): void => finish(received === length ? undefined : new ClientGoneError());
    const onAbort = (): void => finish(new ClientGoneError());
    const timer = setTimeout(finish, Math.max(0, deadlineAt - performance.now()), new RequestTimeoutError());
    req.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onAbort);
  });
}

/**
 * @module http/request-buffer
 * `limits.requestBuffer`: a request body up to that size is read whole before anything goes
 * upstream, so a malformed chunk arriving in a later TCP segment is refused with nothing
 * forwarded (nginx buffers the same way; HAProxy and a plain streaming proxy would already have
 * sent the head and the first chunk). A larger body streams: what was read so far goes first,
 * then the rest as it arrives, and a malformed chunk aborts its upstream request.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, ClientGoneError, RequestTimeoutError } from '../errors';
import { readReplayableBody } from '../policies/retry/replayable-body';

/** The whole body, or the chunks read before it outgrew the buffer (the rest is still in `req`). */
export type BufferedBody = { readonly body: Buffer } | { readonly prefix: readonly Buffer[] };

/**
 * Reads `req`'s body up to `maxBytes`; undefined when its declared length is over the limit
 * (it streams untouched). Rejects with ClientGoneError (client left, malformed body) or
 * RequestTimeoutError (not received by `deadlineAt`, a performance.now() time).
 */
export function bufferRequestBody(
  req: IncomingMessage,
  maxBytes: number,
  maxBodyBytes: number,
  deadlineAt: number,
): Promise<BufferedBody> | undefined {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length > maxBytes) return undefined;
    return readReplayableBody(req, length, deadlineAt).then((body) => ({ body }));
  }
  return readChunked(req, Math.min(maxBytes, maxBodyBytes), maxBodyBytes, deadlineAt);
}

function readChunked(
  req: IncomingMessage,
  maxBytes: number,
  maxBodyBytes: number,
  deadlineAt: number,
): Promise<BufferedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (outcome: BufferedBody | Error): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      if (outcome instanceof Error) {
        req.pause();
        reject(outcome);
      } else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total <= maxBytes) return;
      // A chunked body has no size to check up front: past maxBodySize it is a 413, not a stream.
      if (total > maxBodyBytes) return done(new BodyTooLargeError(maxBodyBytes));
      // Too large to hold: hand over what we have; the stream stays paused until it is sent.
      req.pause();
      done({ prefix: chunks });
    };
    const onEnd = (): void => done({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
    const onClose = (): void => done(new ClientGoneError());
    const timer = setTimeout(done, Math.max(0, deadlineAt - performance.now()), new RequestTimeoutError());
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}

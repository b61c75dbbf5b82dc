/**
 * @module upstream/request-body
 * What undici sends as the request body: nothing, the buffered bytes (replayable), or the
 * client's stream. A chunked upload has no Content-Length to check up front, so it is counted
 * as it streams and cut off at `limits.maxBodySize`.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from '../errors';
import type { Exchange } from '../pipeline/exchange';

import type { Readable } from 'node:stream';

type RequestBody = Buffer | Readable | null;

export function requestBodyFor(ex: Exchange): RequestBody {
  if (!ex.hasBody) return null;
  if (ex.body !== undefined) return ex.body;
  if (ex.bodyPrefix !== undefined)
    return limitedBody(ex.req, ex.route.maxBodyBytes, ex.bodyPrefix) as unknown as Readable;
  // Node's parser already holds a Content-Length body to its declared size, checked against the limit.
  if (ex.req.headers['content-length'] !== undefined) return ex.req;
  // undici takes async iterables as bodies (Dispatcher.md, DispatchOptions.body); its types omit them.
  return limitedBody(ex.req, ex.route.maxBodyBytes) as unknown as Readable;
}

async function* limitedBody(
  req: IncomingMessage,
  maxBytes: number,
  prefix: readonly Buffer[] = [],
): AsyncIterable<Buffer> {
  let total = 0;
  for (const chunk of prefix) {
    total += chunk.length;
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
    yield chunk;
  }
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
    yield chunk as Buffer;
  }
}

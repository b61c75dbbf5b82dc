/**
 * @module policies/compression
 * Pipeline position: inside `cors`, `securityHeaders` and `headers`, outside the rate limit and
 * the cache, so every answer of the route can be compressed (the gateway's own included) while
 * the cache keeps identity bodies that serve any client. `compression: { minSize, types,
 * encodings, level, brQuality }` compresses a response with br (at `brQuality`) or gzip (at
 * `level`) when all of these hold:
 * - the request is not HEAD and has no Range (byte offsets are the identity body's);
 * - the status has a body worth it: not 1xx, 204, 206 or 304;
 * - the upstream did not encode it (no Content-Encoding other than identity) and did not forbid
 *   it (`Cache-Control: no-transform`);
 * - its Content-Type is in `types` (never text/event-stream, see media-types.ts);
 * - its Content-Length is at least `minSize` (a body of unknown length is compressed);
 * - the client's Accept-Encoding allows one of `encodings` (see accept-encoding.ts).
 * Every response that passes all but the last gets `Vary: Accept-Encoding`, so a shared cache
 * keeps the compressed and identity copies apart. A compressed one loses Content-Length (the
 * body is then chunked) and Accept-Ranges, and a strong ETag becomes weak: the compressed bytes
 * are another representation (RFC 9110 §8.8.1, as nginx does).
 */
import { settle } from '../../pipeline/settle';
import type { Reply, ReplyHeaders, StageFactory } from '../../pipeline/stage';
import { appendVary } from '../../pipeline/vary';
import { pickEncoding } from './accept-encoding';
import { CompressedBody, compressorOptions, type CompressorOptions } from './compressed-body';
import type { CompressionConfig, ContentCoding } from './config';
import { MediaTypes } from './media-types';

export const compression: StageFactory<CompressionConfig> = {
  kind: 'compression',
  select: (route) => route.compression,
  create(config) {
    const types = new MediaTypes(config.types);
    const { minSizeBytes, encodings } = config;
    const options = compressorOptions(config.level, config.brQuality);
    return async function compressionStage(ex, next) {
      const req = ex.req;
      if (req.method === 'HEAD' || req.headers.range !== undefined) return next(ex);
      const reply = await settle(next, ex);
      if (!worthCompressing(reply, types, minSizeBytes)) return reply;
      appendVary(reply.headers, 'Accept-Encoding');
      const coding = pickEncoding(req.headers['accept-encoding'], encodings);
      return coding === undefined ? reply : compressed(reply, coding, options);
    };
  },
};

/** Everything but the client's say: status, encoding, no-transform, type and size. */
export function worthCompressing(reply: Reply, types: MediaTypes, minSizeBytes: number): boolean {
  const status = reply.status;
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  const headers = reply.headers;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return false;
  const type = headers['content-type'];
  if (typeof type !== 'string' || !types.compressible(type)) return false;
  const cacheControl = headers['cache-control'];
  if (cacheControl !== undefined && forbidsTransform(cacheControl)) return false;
  const length = headers['content-length'];
  if (typeof length !== 'string') return true;
  // An empty body would only grow (a gzip frame is 20 bytes), whatever minSize says.
  const bytes = Number(length);
  return bytes >= minSizeBytes && bytes > 0;
}

function forbidsTransform(cacheControl: string | string[]): boolean {
  const value = typeof cacheControl === 'string' ? cacheControl : cacheControl.join(',');
  return value.toLowerCase().includes('no-transform');
}

function compressed(reply: Reply, coding: ContentCoding, options: CompressorOptions): Reply {
  const headers: ReplyHeaders = reply.headers;
  headers['content-encoding'] = coding;
  if (headers['content-length'] !== undefined) delete headers['content-length'];
  if (headers['accept-ranges'] !== undefined) delete headers['accept-ranges'];
  const etag = headers.etag;
  if (typeof etag === 'string' && !etag.startsWith('W/')) headers.etag = `W/${etag}`;
  return {
    status: reply.status,
    headers,
    body: new CompressedBody(reply.body, coding, options),
    source: reply.source,
    error: reply.error,
  };
}

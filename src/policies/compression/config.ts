/**
 * @module policies/compression/config
 * The `compression` option as written in gateway.yaml (on a route, or under `server:` as every
 * route's default) and its normalised form. `config/` assembles it.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  Int,
  MEDIA_RANGE_PATTERN,
  Obj,
  Opt,
  Size,
  StringEnum,
  Switchable,
  inherit,
} from '../../config/schema-kit';
import { parseSize, unwrap } from '../../config/units';

export type ContentCoding = 'br' | 'gzip';

/** Below about 1 KB the gzip header and the extra CPU outweigh the bytes saved (nginx uses 20 bytes, Cloudflare 48; 1 KB is Akamai's). */
export const DEFAULT_COMPRESSION_MIN_SIZE = '1kb';
/** Text formats that shrink well; images, video, archives and fonts are already compressed. */
export const DEFAULT_COMPRESSIBLE_TYPES: readonly string[] = [
  'text/*',
  'application/json',
  'application/*+json',
  'application/javascript',
  'application/xml',
  'application/*+xml',
  'image/svg+xml',
  'application/wasm',
];
/** br first: 15-25% smaller than gzip on text at a similar speed at quality 4. */
export const DEFAULT_ENCODINGS: readonly ContentCoding[] = ['br', 'gzip'];
/** zlib's own default and what nginx, Express's compression() and most on-the-fly encoders use. */
export const DEFAULT_GZIP_LEVEL = 6;
/** About gzip 6's speed with smaller output; 11 (the library default) is for static assets, far too slow per request. */
export const DEFAULT_BROTLI_QUALITY = 4;

const CompressionBlock = Obj('Response compression at the gateway.', {
  minSize: Size(
    DEFAULT_COMPRESSION_MIN_SIZE,
    'Smallest body compressed, by Content-Length (a body of unknown length is compressed).',
  ),
  types: Opt(
    Type.Array(Type.String({ pattern: MEDIA_RANGE_PATTERN }), {
      minItems: 1,
      description:
        'Content types compressed: exact (application/json), type/* (text/*) or type/*+suffix (application/*+json).',
      default: [...DEFAULT_COMPRESSIBLE_TYPES],
    }),
  ),
  encodings: Opt(
    Type.Array(StringEnum(['br', 'gzip'] as const, undefined, 'A content coding.'), {
      minItems: 1,
      description: 'Codings offered, preferred first when the client rates them equally.',
      default: [...DEFAULT_ENCODINGS],
    }),
  ),
  level: Int(
    1,
    9,
    DEFAULT_GZIP_LEVEL,
    'gzip level: 1 fastest, 9 smallest (as compression({ level }) and nginx gzip_comp_level).',
  ),
  brQuality: Int(
    0,
    11,
    DEFAULT_BROTLI_QUALITY,
    'br quality: 0 fastest, 11 smallest (too slow for on-the-fly use).',
  ),
});

export const CompressionSchema = Switchable(
  CompressionBlock,
  'gzip or br when the client accepts it and the upstream did not compress; false = off (also for a server default).',
);

export type RawCompression = Static<typeof CompressionBlock>;

export interface CompressionConfig {
  readonly minSizeBytes: number;
  /** Lower-cased media types and ranges. */
  readonly types: readonly string[];
  /** In order of preference, without duplicates. */
  readonly encodings: readonly ContentCoding[];
  /** gzip level, 1-9. */
  readonly level: number;
  /** br quality, 0-11. */
  readonly brQuality: number;
}

/** The route's own block, else the server default; `false` turns it off. */
export function normalizeCompression(
  own: RawCompression | false | undefined,
  serverDefault?: RawCompression | false,
): CompressionConfig | undefined {
  const raw = inherit(own, serverDefault);
  if (raw === undefined) return undefined;
  return {
    minSizeBytes: unwrap(parseSize(raw.minSize ?? DEFAULT_COMPRESSION_MIN_SIZE)),
    types: (raw.types ?? DEFAULT_COMPRESSIBLE_TYPES).map((type) => type.toLowerCase()),
    encodings: [...new Set(raw.encodings ?? DEFAULT_ENCODINGS)],
    level: raw.level ?? DEFAULT_GZIP_LEVEL,
    brQuality: raw.brQuality ?? DEFAULT_BROTLI_QUALITY,
  };
}

/**
 * @module policies/compression/config
 * The `compression` option as written in gateway.yaml (on a route, or under `server:` as every
 * route's default) and its normalised form. `config/` assembles it.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
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
  };
}

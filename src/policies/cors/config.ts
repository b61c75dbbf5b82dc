/**
 * @module policies/cors/config
 * The `cors` option as written in gateway.yaml (on a route, or under `server:` as every route's
 * default) and its normalised form. `config/` assembles it; `checks.ts` holds the rule a schema
 * cannot express (`*` with credentials).
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  Bool,
  Duration,
  ORIGIN_PATTERN,
  Obj,
  Opt,
  Switchable,
  TOKEN_PATTERN,
  Tokens,
  inherit,
} from '../../config/schema-kit';
import { parseDuration, unwrap } from '../../config/units';

/** The methods the `cors` npm package allows by default: everything but CONNECT, TRACE, OPTIONS. */
export const DEFAULT_CORS_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];

const TokenList = (description: string) =>
  Opt(Type.Array(Type.String({ pattern: TOKEN_PATTERN }), { description }));

const CorsBlock = Obj('Cross-origin resource sharing, answered at the gateway.', {
  origins: Type.Array(Type.String({ pattern: ORIGIN_PATTERN }), {
    minItems: 1,
    description:
      'Origins allowed: exact (https://app.example.com), one wildcard label (https://*.example.com), or * (any, without credentials).',
  }),
  methods: Tokens(DEFAULT_CORS_METHODS, 'Methods a preflight allows (Access-Control-Allow-Methods).'),
  headers: TokenList(
    'Request headers a preflight allows (Access-Control-Allow-Headers); absent = the ones the preflight asks for.',
  ),
  exposeHeaders: TokenList('Response headers scripts may read (Access-Control-Expose-Headers).'),
  credentials: Bool(false, 'Allow cookies and Authorization (Access-Control-Allow-Credentials: true).'),
  maxAge: Duration(
    undefined,
    'How long browsers may reuse a preflight answer (Access-Control-Max-Age); absent = not sent.',
  ),
});

export const CorsSchema = Switchable(
  CorsBlock,
  'CORS: preflights answered here (204), Access-Control-* on every answer; false = off (also for a server default).',
);

export type RawCors = Static<typeof CorsBlock>;

export interface CorsConfig {
  /** As written, lower-cased; `*` = any origin. */
  readonly origins: readonly string[];
  /** Upper-cased. */
  readonly methods: readonly string[];
  /** Lower-cased; undefined = reflect what the preflight asks for. */
  readonly headers: readonly string[] | undefined;
  /** Lower-cased; empty = none. */
  readonly exposeHeaders: readonly string[];
  readonly credentials: boolean;
  /** Whole seconds for Access-Control-Max-Age; undefined = not sent. */
  readonly maxAgeSeconds: number | undefined;
}

/** The route's own block, else the server default; `false` turns it off. */
export function normalizeCors(
  own: RawCors | false | undefined,
  serverDefault?: RawCors | false,
): CorsConfig | undefined {
  const raw = inherit(own, serverDefault);
  if (raw === undefined) return undefined;
  const lower = (names: readonly string[]) => names.map((name) => name.toLowerCase());
  return {
    origins: lower(raw.origins),
    methods: (raw.methods ?? DEFAULT_CORS_METHODS).map((m) => m.toUpperCase()),
    headers: raw.headers && lower(raw.headers),
    exposeHeaders: lower(raw.exposeHeaders ?? []),
    credentials: raw.credentials ?? false,
    maxAgeSeconds:
      raw.maxAge === undefined ? undefined : Math.floor(unwrap(parseDuration(raw.maxAge)) / 1000),
  };
}

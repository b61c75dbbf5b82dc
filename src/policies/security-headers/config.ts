/**
 * @module policies/security-headers/config
 * The `securityHeaders` option as written in gateway.yaml (on a route, or under `server:` as
 * every route's default) and its normalised form: the header values themselves, computed once.
 * `config/` assembles it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Bool, Int, Obj, Opt, OptObj, StringEnum, TOKEN_PATTERN, inherit } from '../../config/schema-kit';

/** One year, Helmet's and the HSTS preload list's minimum. */
export const DEFAULT_HSTS_MAX_AGE_SECONDS = 31_536_000;
/** Helmet's default: a subdomain served over plain http is as exposed as the apex. */
export const DEFAULT_HSTS_INCLUDE_SUBDOMAINS = true;
export const DEFAULT_FRAME_OPTIONS = 'DENY';
/** Helmet's default and the strictest: no URL of ours leaks to another site, not even the origin. */
export const DEFAULT_REFERRER_POLICY = 'no-referrer';
/** Software banners: they tell an attacker which CVEs to try and nothing useful to anyone else. */
export const DEFAULT_REMOVED_HEADERS: readonly string[] = ['server', 'x-powered-by'];

const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
] as const;

const Hsts = OptObj('Strict-Transport-Security, sent only on requests that came over https.', {
  maxAge: Int(0, undefined, DEFAULT_HSTS_MAX_AGE_SECONDS, 'max-age in seconds (one year by default).'),
  includeSubDomains: Bool(DEFAULT_HSTS_INCLUDE_SUBDOMAINS, 'Also cover every subdomain.'),
  preload: Bool(false, 'Ask to be put on the browser preload list (hstspreload.org).'),
});

const SecurityHeadersBlock = Obj('Security response headers, tuned.', {
  hsts: Opt(Type.Union([Hsts, Type.Literal(false)], { description: 'HSTS settings; false = never sent.' })),
  contentTypeOptions: Bool(true, 'X-Content-Type-Options: nosniff.'),
  frameOptions: Opt(
    Type.Union(
      [StringEnum(['DENY', 'SAMEORIGIN'], DEFAULT_FRAME_OPTIONS, 'X-Frame-Options.'), Type.Literal(false)],
      { description: 'X-Frame-Options: DENY or SAMEORIGIN; false = not sent.' },
    ),
  ),
  referrerPolicy: Opt(
    Type.Union(
      [StringEnum(REFERRER_POLICIES, DEFAULT_REFERRER_POLICY, 'Referrer-Policy.'), Type.Literal(false)],
      { description: 'Referrer-Policy; false = not sent.' },
    ),
  ),
  remove: Opt(
    Type.Array(Type.String({ pattern: TOKEN_PATTERN }), {
      description: 'Response headers removed, whoever set them; [] keeps them all.',
      default: [...DEFAULT_REMOVED_HEADERS],
    }),
  ),
});

export const SecurityHeadersSchema = Opt(
  Type.Union([Type.Boolean(), SecurityHeadersBlock], {
    description:
      'HSTS (https only), nosniff, X-Frame-Options, Referrer-Policy; strips Server and X-Powered-By. true = the defaults, false = off (also for a server default).',
  }),
);

export type RawSecurityHeaders = NonNullable<Static<typeof SecurityHeadersSchema>>;

/** What the stage applies: values an upstream did not set itself, HSTS on https, names to strip. */
export interface SecurityHeadersConfig {
  /** Lower-case name → value; each is added only when the response has no such header. */
  readonly headers: Readonly<Record<string, string>>;
  /** The Strict-Transport-Security value; undefined = never sent. */
  readonly hsts: string | undefined;
  /** Lower-case names removed from every response. */
  readonly remove: readonly string[];
}

/** The route's own block, else the server default (`false` turns it off); `true` = the defaults. */
export function normalizeSecurityHeaders(
  own: RawSecurityHeaders | undefined,
  serverDefault?: RawSecurityHeaders,
): SecurityHeadersConfig | undefined {
  const raw = inherit(own, serverDefault);
  if (raw === undefined) return undefined;
  const block = raw === true ? {} : raw;
  const headers: Record<string, string> = {};
  if (block.contentTypeOptions ?? true) headers['x-content-type-options'] = 'nosniff';
  const frame = block.frameOptions ?? DEFAULT_FRAME_OPTIONS;
  if (frame !== false) headers['x-frame-options'] = frame;
  const referrer = block.referrerPolicy ?? DEFAULT_REFERRER_POLICY;
  if (referrer !== false) headers['referrer-policy'] = referrer;
  return {
    headers,
    hsts: block.hsts === false ? undefined : hstsValue(block.hsts ?? {}),
    remove: (block.remove ?? DEFAULT_REMOVED_HEADERS).map((name) => name.toLowerCase()),
  };
}

function hstsValue(hsts: NonNullable<Static<typeof Hsts>>): string {
  let value = `max-age=${hsts.maxAge ?? DEFAULT_HSTS_MAX_AGE_SECONDS}`;
  if (hsts.includeSubDomains ?? DEFAULT_HSTS_INCLUDE_SUBDOMAINS) value += '; includeSubDomains';
  if (hsts.preload) value += '; preload';
  return value;
}

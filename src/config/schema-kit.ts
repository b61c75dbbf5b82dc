/**
 * @module config/schema-kit
 * The TypeBox building blocks of gateway.yaml's schema (durations, sizes, statuses, names,
 * header maps), shared by `schema.ts` and by the schema fragment each policy folder exports
 * beside its stage, so a new policy touches its own folder and one list.
 */
import { type Static, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import {
  DURATION_PATTERN,
  type Parsed,
  parseCidr,
  parseDuration,
  parseHostPattern,
  parseListen,
  parsePositiveDuration,
  parseSize,
  parseStatusRanges,
  parseTargetUrl,
  SIZE_PATTERN,
  STATUS_RANGE_PATTERN,
} from './units';

/** Upstream and route names: they become metric labels, so a tame charset. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]+$';
/** An HTTP token (RFC 9110 §5.6.2): method and header names. */
export const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** A path as matched after normalisation: absolute, no query, no fragment. */
export const PATH_PATTERN = '^/[^\\s?#]*$';
/** A health-check path may carry a query (`/healthz?full=1`). */
export const PROBE_PATH_PATTERN = '^/\\S*$';
/** What Node accepts in a header value (no control characters, so no header injection). */
export const HEADER_VALUE_PATTERN = '^[\\t\\x20-\\x7E\\x80-\\xFF]*$';
export const VISIBLE_ASCII_PATTERN = '^[\\x21-\\x7E]+$';
/** A browser origin (`https://app.example.com`, `https://*.example.com`, with a port or not) or `*`. */
export const ORIGIN_PATTERN = '^(\\*|https?://(\\*\\.)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?)$';
/** A media type or range: `text/html`, `text/*`, `application/*+json`. */
export const MEDIA_RANGE_PATTERN = '^[A-Za-z0-9!#$&^_.+-]+/(\\*|\\*\\+[A-Za-z0-9.-]+|[A-Za-z0-9!#$&^_.+-]+)$';

/** How each pattern reads in an "expected ..." message. */
export const PATTERN_EXPECTATIONS: Readonly<Record<string, string>> = {
  [NAME_PATTERN]: 'a name of letters, digits, "_", "." or "-"',
  [TOKEN_PATTERN]: 'an HTTP token such as GET or x-tenant',
  [PATH_PATTERN]: 'a path starting with "/" (no query)',
  [PROBE_PATH_PATTERN]: 'a path starting with "/"',
  [HEADER_VALUE_PATTERN]: 'a header value without control characters',
  [VISIBLE_ASCII_PATTERN]: 'a value without spaces or control characters',
  [ORIGIN_PATTERN]: 'an origin such as https://app.example.com or https://*.example.com, or *',
  [MEDIA_RANGE_PATTERN]: 'a media type such as application/json, text/* or application/*+json',
  [DURATION_PATTERN]: 'a duration such as 250ms, 5s or 1m',
  [SIZE_PATTERN]: 'a size such as 512kb or 10mb',
  [STATUS_RANGE_PATTERN]: 'a status such as 503 or a range such as "200-399"',
};

/** The value grammars behind each `format`; each parser also writes the error message. */
export const FORMATS: Readonly<Record<string, (value: unknown) => Parsed<unknown>>> = {
  'bw-duration': parseDuration,
  'bw-positive-duration': parsePositiveDuration,
  'bw-size': parseSize,
  'bw-status-range': parseStatusRanges,
  'bw-listen': parseListen,
  'bw-cidr': parseCidr,
  'bw-target-url': parseTargetUrl,
  'bw-host': parseHostPattern,
};

export const withDefault = (value: unknown) => (value === undefined ? {} : { default: value });
export const Opt = Type.Optional;
export const Obj = <P extends TProperties>(description: string, properties: P) =>
  Type.Object(properties, { additionalProperties: false, description });
/** Every key of a block is optional except the few marked required, so helpers return optional. */
export const OptObj = <P extends TProperties>(description: string, properties: P) =>
  Opt(Obj(description, properties));
export const Int = (min: number, max: number | undefined, def: number | undefined, description: string) =>
  Opt(
    Type.Integer({
      description,
      minimum: min,
      ...(max === undefined ? {} : { maximum: max }),
      ...withDefault(def),
    }),
  );
export const Bool = (def: boolean, description: string) => Opt(Type.Boolean({ description, default: def }));
export const StringEnum = <const T extends string>(
  values: readonly T[],
  def: T | undefined,
  description: string,
) => Type.Unsafe<T>({ type: 'string', enum: [...values], description, ...withDefault(def) });
export const Path = (description: string) => Opt(Type.String({ pattern: PATH_PATTERN, description }));
export const DurationString = Type.String({ format: 'bw-duration', pattern: DURATION_PATTERN });
/** `250ms`, `5s`, `1m`, `1h`, or `0`. */
export const Duration = (def: string | undefined, description: string) =>
  Opt(Type.Union([DurationString, Type.Literal(0)], { description, ...withDefault(def) }));
/** A duration where 0 makes no sense (intervals, windows, deadlines). */
export const PositiveDuration = (def: string | undefined, description: string) =>
  Opt(
    Type.String({
      format: 'bw-positive-duration',
      pattern: DURATION_PATTERN,
      description,
      ...withDefault(def),
    }),
  );
export const SizeString = Type.String({ format: 'bw-size', pattern: SIZE_PATTERN });
/** `512b`, `1kb` (1024), `10mb`, `1gb`, or a number of bytes. */
export const Size = (def: string, description: string) =>
  Opt(Type.Union([SizeString, Type.Integer({ minimum: 0 })], { description, default: def }));
export const Status = Type.Integer({ minimum: 100, maximum: 599 });
export const StatusRange = Type.String({ format: 'bw-status-range', pattern: STATUS_RANGE_PATTERN });
export const StatusList = Type.Array(Type.Union([Status, StatusRange]), { minItems: 1 });
/** `503`, `"200-399"`, or a list of those. */
export const StatusSpec = (def: string, description: string) =>
  Opt(Type.Union([Status, StatusRange, StatusList], { description, default: def }));
export const Listen = (def: string, description: string) =>
  Opt(
    Type.Union([Type.String({ format: 'bw-listen' }), Type.Integer({ minimum: 0, maximum: 65535 })], {
      description,
      default: def,
    }),
  );
export const HeaderValue = Type.String({ pattern: HEADER_VALUE_PATTERN });
/**
 * A mapping with free keys. `propertyNames` rather than a Record's `patternProperties`, so a
 * badly named entry still has its value checked and every problem shows in one pass.
 */
export const MapOf = <T extends TSchema>(keyPattern: string, value: T, description: string, min = 0) =>
  Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    propertyNames: { pattern: keyPattern },
    additionalProperties: value,
    ...(min > 0 ? { minProperties: min } : {}),
    description,
  });
export const HeaderMap = (description: string) => Opt(MapOf(TOKEN_PATTERN, HeaderValue, description));
export const Tokens = (def: readonly string[] | undefined, description: string) =>
  Opt(
    Type.Array(Type.String({ pattern: TOKEN_PATTERN }), {
      minItems: 1,
      description,
      ...withDefault(def && [...def]),
    }),
  );
export const TargetUrl = (description: string) => Type.String({ format: 'bw-target-url', description });
export const Host = Type.String({ format: 'bw-host' });
/**
 * An edge policy block that `server:` may also set as the default of every route: on a route
 * the block replaces the server's as a whole, and `false` turns the policy off there.
 */
export const Switchable = <T extends TSchema>(block: T, description: string) =>
  Opt(Type.Union([block, Type.Literal(false)], { description }));
/** The block that applies to a route (see `Switchable`): its own, else the server's; `false` = off. */
export function inherit<T>(own: T | false | undefined, serverDefault: T | false | undefined): T | undefined {
  const block = own ?? serverDefault;
  return block === false ? undefined : block;
}

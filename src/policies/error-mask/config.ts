/**
 * @module policies/error-mask/config
 * The `errors` option as written in gateway.yaml (on a route, or under `server:` as every
 * route's default) and its normalised form. `config/` assembles it.
 */
import { type Static } from '@sinclair/typebox';
import { Opt, StringEnum } from '../../config/schema-kit';

/** pass: upstream 5xx bodies reach the client as sent; mask: replaced by the gateway's error JSON. */
export type ErrorsMode = 'pass' | 'mask';

export const DEFAULT_ERRORS: ErrorsMode = 'pass';

const MODES = ['pass', 'mask'] as const;
const DESCRIPTION =
  "Upstream 5xx bodies: pass (as sent) or mask (status kept, body replaced by the gateway's UPSTREAM_ERROR JSON, so stack traces and internals never reach clients).";

/** On a route: no default of its own, so the server's applies when the key is absent. */
export const ErrorsSchema = Opt(StringEnum(MODES, undefined, DESCRIPTION));
/** Under `server:`: the default of every route. */
export const ServerErrorsSchema = Opt(
  StringEnum(MODES, DEFAULT_ERRORS, `${DESCRIPTION} Default of every route.`),
);

export type RawErrors = NonNullable<Static<typeof ErrorsSchema>>;

/** The route's own value, else the server default, else `pass`. */
export function normalizeErrors(own: RawErrors | undefined, serverDefault?: RawErrors): ErrorsMode {
  return own ?? serverDefault ?? DEFAULT_ERRORS;
}

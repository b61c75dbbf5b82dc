/**
 * @module policies/fault/config
 * The `fault` option as written in gateway.yaml (on a route, or under `server:` as every
 * route's default) and its normalised form. `config/` assembles it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Obj, OptObj, Switchable, inherit } from '../../config/schema-kit';
import { DURATION_PATTERN, parseDuration, unwrap } from '../../config/units';

const Percent = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });

const FaultBlock = Obj('Fault injection for chaos drills.', {
  delay: OptObj('Hold some requests back before they go on.', {
    duration: Type.String({
      format: 'bw-positive-duration',
      pattern: DURATION_PATTERN,
      description: 'How long, such as 200ms (never past the route timeout).',
    }),
    percent: Percent('Share of requests delayed, 0-100 (decimals allowed).'),
  }),
  abort: OptObj('Answer some requests with an error status instead of forwarding them.', {
    status: Type.Integer({
      minimum: 400,
      maximum: 599,
      description: 'Status answered, as if the upstream had; 503 gets Retry-After: 1.',
    }),
    percent: Percent('Share of requests aborted, 0-100 (decimals allowed).'),
  }),
});

export const FaultSchema = Switchable(
  FaultBlock,
  'Inject delays and errors (chaos testing); false = off (also for a server default).',
);

export type RawFault = Static<typeof FaultBlock>;

export interface FaultConfig {
  readonly delay: { readonly ms: number; readonly percent: number } | undefined;
  readonly abort: { readonly status: number; readonly percent: number } | undefined;
}

/** The route's own block, else the server default; `false`, or nothing that can fire, = off. */
export function normalizeFault(
  own: RawFault | false | undefined,
  serverDefault?: RawFault | false,
): FaultConfig | undefined {
  const raw = inherit(own, serverDefault);
  if (raw === undefined) return undefined;
  const delay =
    raw.delay && raw.delay.percent > 0
      ? { ms: unwrap(parseDuration(raw.delay.duration)), percent: raw.delay.percent }
      : undefined;
  const abort =
    raw.abort && raw.abort.percent > 0 ? { status: raw.abort.status, percent: raw.abort.percent } : undefined;
  return delay || abort ? { delay, abort } : undefined;
}

/**
 * @module policies/headers/config
 * The `headers` option as written in gateway.yaml (on a route, or under `server:` as every
 * route's default) and its normalised form. `checks.ts` refuses the header names the gateway
 * manages itself. `config/` assembles it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { HeaderMap, Obj, Opt, OptObj, Switchable, TOKEN_PATTERN, inherit } from '../../config/schema-kit';

const HeaderChanges = (side: 'request' | 'response', where: string) =>
  OptObj(`Changes to the ${side} headers ${where}.`, {
    set: HeaderMap('Set these headers, replacing any value already there.'),
    add: HeaderMap('Add these values, keeping the ones already there.'),
    remove: Opt(
      Type.Array(Type.String({ pattern: TOKEN_PATTERN }), {
        minItems: 1,
        description: 'Remove these headers.',
      }),
    ),
  });

const HeadersBlock = Obj('Header changes both ways.', {
  request: HeaderChanges('request', 'sent to the upstream'),
  response: HeaderChanges('response', "sent to the client (every answer, also the gateway's own)"),
});

export const HeadersSchema = Switchable(
  HeadersBlock,
  'Set, add or remove request and response headers; false = off (also for a server default).',
);

export type RawHeaders = Static<typeof HeadersBlock>;
type RawChanges = NonNullable<RawHeaders['request']>;

/** One direction's changes, names lower-cased; applied remove, then set, then add. */
export interface HeaderChangesConfig {
  readonly set: Readonly<Record<string, string>>;
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface HeadersConfig {
  readonly request: HeaderChangesConfig | undefined;
  readonly response: HeaderChangesConfig | undefined;
}

/** The route's own block, else the server default; `false` turns it off. */
export function normalizeHeaders(
  own: RawHeaders | false | undefined,
  serverDefault?: RawHeaders | false,
): HeadersConfig | undefined {
  const raw = inherit(own, serverDefault);
  if (raw === undefined) return undefined;
  const request = changes(raw.request);
  const response = changes(raw.response);
  return request || response ? { request, response } : undefined;
}

function changes(raw: RawChanges | undefined): HeaderChangesConfig | undefined {
  if (raw === undefined) return undefined;
  const lowerKeys = (map: Readonly<Record<string, string>> | undefined) =>
    Object.fromEntries(Object.entries(map ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const result = {
    set: lowerKeys(raw.set),
    add: lowerKeys(raw.add),
    remove: (raw.remove ?? []).map((name) => name.toLowerCase()),
  };
  const empty =
    Object.keys(result.set).length === 0 &&
    Object.keys(result.add).length === 0 &&
    result.remove.length === 0;
  return empty ? undefined : result;
}

/**
 * @module policies/cache/cache-control
 * Cache-Control parsing (RFC 9111 §5.2) for the response cache: the request directives that
 * decide whether a stored response may answer, and the response directives that decide whether
 * and how long one is stored. Pure functions; the cache stage parses a request's header only
 * when it has one and a response's once, when it is stored.
 */

/** What a response says about being stored and reused by a shared cache. */
export interface ResponseDirectives {
  readonly noStore: boolean;
  /** `no-cache`, with or without a field list: stored, but validated before every use. */
  readonly noCache: boolean;
  /** `private`, with or without a field list: never stored by a shared cache. */
  readonly private: boolean;
  readonly public: boolean;
  readonly mustRevalidate: boolean;
  readonly proxyRevalidate: boolean;
  readonly maxAgeS: number | undefined;
  readonly sMaxAgeS: number | undefined;
  /** RFC 5861 extensions. */
  readonly staleIfErrorS: number | undefined;
  readonly staleWhileRevalidateS: number | undefined;
}

/** What a request says about being answered from the cache. */
export interface RequestDirectives {
  readonly noStore: boolean;
  readonly noCache: boolean;
  readonly maxAgeS: number | undefined;
  readonly minFreshS: number | undefined;
}

export const NO_REQUEST_DIRECTIVES: RequestDirectives = Object.freeze({
  noStore: false,
  noCache: false,
  maxAgeS: undefined,
  minFreshS: undefined,
});

/** RFC 9111 §1.2.2: a delta-seconds too large to represent counts as 2^31. */
const MAX_DELTA_SECONDS = 2147483648;

/** One directive: a name, then `=token` or `="quoted string"`, up to the next comma. */
const DIRECTIVE = /\s*([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)/g;

/**
 * Directive name (lower-cased) → its argument (`''` when it has none). When a directive
 * appears twice the first one wins (RFC 9111 §4.2.1 allows that or "stale").
 */
export function parseDirectives(value: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : value;
  DIRECTIVE.lastIndex = 0;
  for (let m = DIRECTIVE.exec(text); m !== null && m[0] !== ''; m = DIRECTIVE.exec(text)) {
    const name = m[1]!.toLowerCase();
    if (out.has(name)) continue;
    const raw = (m[2] ?? '').trim();
    out.set(name, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return out;
}

/**
 * A delta-seconds argument. Freshness directives (`max-age`, `s-maxage`) with a missing or
 * malformed argument count as 0, i.e. stale (§4.2.1: an invalid freshness means stale);
 * others (`stale-if-error`, `min-fresh`) are ignored.
 */
function seconds(directives: Map<string, string>, name: string, invalidIsZero: boolean): number | undefined {
  const raw = directives.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) return invalidIsZero ? 0 : undefined;
  return Math.min(Number(raw), MAX_DELTA_SECONDS);
}

/**
 * Parsed values by header text. Origins send a handful of distinct Cache-Control values, so each
 * is parsed once rather than on every response (measured ~5 µs per request on a cached route).
 * Bounded: a client or origin sending endless variants only refills it.
 */
const MEMO_LIMIT = 256;
const responseMemo = new Map<string, ResponseDirectives>();
const requestMemo = new Map<string, RequestDirectives>();

function memoized<T>(
  memo: Map<string, T>,
  value: string | string[],
  parse: (value: string | string[]) => T,
): T {
  if (typeof value !== 'string') return parse(value);
  let parsed = memo.get(value);
  if (parsed === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(value, (parsed = Object.freeze(parse(value))));
  }
  return parsed;
}

export function parseResponseDirectives(value: string | string[] | undefined): ResponseDirectives {
  if (value === undefined) return NO_RESPONSE_DIRECTIVES;
  return memoized(responseMemo, value, responseDirectives);
}

const NO_RESPONSE_DIRECTIVES: ResponseDirectives = Object.freeze(responseDirectives(undefined));

function responseDirectives(value: string | string[] | undefined): ResponseDirectives {
  const d = parseDirectives(value);
  return {
    noStore: d.has('no-store'),
    noCache: d.has('no-cache'),
    private: d.has('private'),
    public: d.has('public'),
    mustRevalidate: d.has('must-revalidate'),
    proxyRevalidate: d.has('proxy-revalidate'),
    maxAgeS: seconds(d, 'max-age', true),
    sMaxAgeS: seconds(d, 's-maxage', true),
    staleIfErrorS: seconds(d, 'stale-if-error', false),
    staleWhileRevalidateS: seconds(d, 'stale-while-revalidate', false),
  };
}

export function parseRequestDirectives(value: string | string[] | undefined): RequestDirectives {
  if (value === undefined) return NO_REQUEST_DIRECTIVES;
  return memoized(requestMemo, value, requestDirectives);
}

function requestDirectives(value: string | string[]): RequestDirectives {
  const d = parseDirectives(value);
  return {
    noStore: d.has('no-store'),
    noCache: d.has('no-cache'),
    maxAgeS: seconds(d, 'max-age', true),
    minFreshS: seconds(d, 'min-fresh', false),
  };
}

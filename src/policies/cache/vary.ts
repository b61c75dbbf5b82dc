/**
 * @module policies/cache/vary
 * Vary (RFC 9111 §4.1): a stored response answers a request only when every request header it
 * names has the same normalised value as in the request that produced it. `Vary: *` never
 * matches. Normalising joins repeated lines and trims the spaces around commas and at the ends,
 * which never changes a value's meaning; case is kept, since some headers are case-sensitive.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The request headers a stored response varies on (lower-cased, sorted) and their values. */
export interface VaryKey {
  readonly names: readonly string[];
  /** undefined where the request did not carry the header (distinct from an empty value). */
  readonly values: readonly (string | undefined)[];
}

type HeaderValue = string | string[] | undefined;

/** Whether a Vary header contains `*`. */
export function isVaryStar(vary: HeaderValue): boolean {
  if (vary === undefined) return false;
  const text = Array.isArray(vary) ? vary.join(',') : vary;
  return text.split(',').some((name) => name.trim() === '*');
}

/** The field names of a Vary header, lower-cased, deduplicated and sorted; [] when none. */
export function varyNames(vary: HeaderValue): string[] {
  if (vary === undefined) return [];
  const text = Array.isArray(vary) ? vary.join(',') : vary;
  const names = new Set<string>();
  for (const name of text.split(',')) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) names.add(trimmed);
  }
  return [...names].sort();
}

/** A request header value in its normalised form. */
export function normalizeValue(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text.trim().replace(/[ \t]*,[ \t]*/g, ', ');
}

/** The vary key of a request for a response that varies on `names`; undefined when it varies on none. */
export function varyKeyOf(names: readonly string[], request: IncomingHttpHeaders): VaryKey | undefined {
  if (names.length === 0) return undefined;
  return { names, values: names.map((name) => normalizeValue(request[name])) };
}

/** Whether `request` selects the response stored under `key`. */
export function varyMatches(key: VaryKey | undefined, request: IncomingHttpHeaders): boolean {
  if (key === undefined) return true;
  for (let i = 0; i < key.names.length; i++) {
    if (normalizeValue(request[key.names[i]!]) !== key.values[i]) return false;
  }
  return true;
}

/** Whether two keys select the same variant (same names, same values). */
export function sameVariant(a: VaryKey | undefined, b: VaryKey | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.names.length !== b.names.length) return false;
  for (let i = 0; i < a.names.length; i++) {
    if (a.names[i] !== b.names[i] || a.values[i] !== b.values[i]) return false;
  }
  return true;
}

/** Whether two keys vary on the same header names (else the resource changed its Vary). */
export function sameNames(a: VaryKey | undefined, b: VaryKey | undefined): boolean {
  const an = a?.names ?? [];
  const bn = b?.names ?? [];
  return an.length === bn.length && an.every((name, i) => name === bn[i]);
}

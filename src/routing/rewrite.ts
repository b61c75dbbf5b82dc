/**
 * @module routing/rewrite
 * A route's path rewrite (`rewrite: { stripPrefix, addPrefix }`), applied to the normalised path
 * after route match and before forwarding; the query string is not its business. Compiled once
 * per route: a route without a rewrite gets `undefined`, so the hot path skips the stage entirely.
 */
import type { RewriteConfig } from '../config/types';

/** Maps a normalised path (no query) to the path the upstream receives. */
export type PathRewrite = (path: string) => string;

/**
 * Compiles a route's rewrite.
 *
 * `stripPrefix` is removed on whole segments only (`/users/7` → `/7`, `/users` → `/`,
 * `/usersX` unchanged), then `addPrefix` is put in front without doubling the slash
 * (`/v1` + `/7` → `/v1/7`). A trailing slash is kept, as with Envoy's `prefix_rewrite`:
 * `/users` → `/v1` and `/users/` → `/v1/`.
 *
 * @returns undefined when the rewrite is absent or changes nothing (both prefixes empty or `/`).
 */
export function compileRewrite(rewrite: RewriteConfig | undefined): PathRewrite | undefined {
  const strip = asPrefix(rewrite?.stripPrefix);
  const add = asPrefix(rewrite?.addPrefix);
  if (strip === '' && add === '') return undefined;
  if (strip === '') return (path) => add + path;
  return (path) => {
    if (!path.startsWith(strip)) return path;
    if (path.length === strip.length) return add === '' ? '/' : add;
    // Only strip on a segment boundary: `/users` must leave `/usersX` alone.
    if (path.charCodeAt(strip.length) !== 0x2f) return path;
    return add + path.slice(strip.length);
  };
}

/**
 * `/v1/` → `/v1`, `/` → `''`, `v1` → `/v1`: with no trailing slash, joining with a path that
 * starts with `/` never doubles it.
 */
function asPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0x2f) end--;
  if (end === 0) return '';
  return prefix.charCodeAt(0) === 0x2f ? prefix.slice(0, end) : '/' + prefix.slice(0, end);
}

/**
 * @module config/lint
 * The warnings pass of `validate.ts`: settings that are valid but probably do not do what was
 * meant — a per-try timeout the route deadline always beats, a method name no client sends, a
 * route an earlier one always takes first, a `stripPrefix` that never matches, a shared limit no
 * route names. A config with
 * warnings still runs (start and reload log them); `breakwater validate --strict` fails on them.
 * Runs on the raw data, possibly invalid, so every read is guarded, and only warns when the
 * mistake is certain from the file alone.
 */
import * as D from './defaults';
import { didYouMean, ptr } from './schema-errors';
import { parseDuration, parseHostPattern } from './units';
import type { Issues } from './validate';
import { list, rec, type Rec } from './raw-data';
import { STANDARD_METHODS } from '../http/methods';

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;

/** Records a warning for every likely mistake in `data`. */
export function lintConfig(data: unknown, warnings: Issues): void {
  const routes = list(rec(data)?.routes);
  routes.forEach((raw, i) => {
    const route = rec(raw);
    if (!route) return;
    lintTimeouts(route, i, warnings);
    lintMethods(route, i, warnings);
    lintStripPrefix(route, i, warnings);
  });
  lintShadowedRoutes(routes, warnings);
  lintSharedLimits(rec(rec(data)?.sharedLimits), routes, warnings);
}

// ---------------------------------------------------------------------------------------------
// Timeouts

/** A per-try timeout longer than the whole-request deadline never fires; the deadline does. */
function lintTimeouts(route: Rec, i: number, warnings: Issues): void {
  const perTryText = rec(route.retry)?.perTryTimeout;
  if (perTryText === undefined) return;
  const perTry = parseDuration(perTryText);
  const timeoutText = route.timeout ?? D.DEFAULT_ROUTE_TIMEOUT;
  const timeout = parseDuration(timeoutText);
  if (!perTry.ok || !timeout.ok || perTry.value <= timeout.value) return;
  const whose =
    route.timeout === undefined
      ? `the route timeout (${D.DEFAULT_ROUTE_TIMEOUT} by default)`
      : `the route timeout (${String(timeoutText)})`;
  warnings.add(
    ptr('routes', i, 'retry', 'perTryTimeout'),
    `perTryTimeout (${String(perTryText)}) is longer than ${whose}, so it can never fire; make it shorter than the timeout, or raise the timeout`,
  );
}

// ---------------------------------------------------------------------------------------------
// Methods

function lintMethods(route: Rec, i: number, warnings: Issues): void {
  lintMethodList(rec(route.match)?.methods, ptr('routes', i, 'match', 'methods'), warnings);
  lintMethodList(rec(route.retry)?.methods, ptr('routes', i, 'retry', 'methods'), warnings);
  const limits = route.rateLimit;
  if (Array.isArray(limits)) {
    limits.forEach((rule, j) =>
      lintMethodList(rec(rule)?.methods, ptr('routes', i, 'rateLimit', j, 'methods'), warnings),
    );
  } else {
    lintMethodList(rec(limits)?.methods, ptr('routes', i, 'rateLimit', 'methods'), warnings);
  }
}

/** Methods are upper-cased when the config loads, so only the name itself can be wrong. */
function lintMethodList(methods: unknown, pointer: string, warnings: Issues): void {
  list(methods).forEach((method, j) => {
    if (typeof method !== 'string' || STANDARD_METHODS.includes(method.toUpperCase())) return;
    const suggestion = didYouMean(method.toUpperCase(), STANDARD_METHODS);
    const message = suggestion
      ? `"${method}" is not a standard HTTP method (did you mean "${suggestion}"?)`
      : `"${method}" is not a standard HTTP method (${STANDARD_METHODS.join(', ')}); fine if your clients really send it`;
    warnings.add(`${pointer}${ptr(j)}`, message);
  });
}

// ---------------------------------------------------------------------------------------------
// Shared limits

/**
 * A shared limit no route names counts nothing: most likely a route lost its `shared:` line or
 * the name is misspelt there (an unknown name is an error of its own, so this is the other half).
 * Its `methods` are linted like a route rule's.
 */
function lintSharedLimits(sharedLimits: Rec | undefined, routes: readonly unknown[], warnings: Issues): void {
  if (!sharedLimits) return;
  const named = new Set<unknown>();
  for (const route of routes) {
    const limits = rec(route)?.rateLimit;
    for (const rule of Array.isArray(limits) ? limits : [limits]) named.add(rec(rule)?.shared);
  }
  for (const [name, limit] of Object.entries(sharedLimits)) {
    lintMethodList(rec(limit)?.methods, ptr('sharedLimits', name, 'methods'), warnings);
    if (named.has(name)) continue;
    warnings.add(
      ptr('sharedLimits', name),
      `shared limit "${name}" is not used: no route names it (rateLimit: { shared: ${name} }), so it limits nothing; reference it from a route or remove it`,
      'key',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Path rewrites

/** `/users/` → `/users`; `/` → '' (no constraint), as the router and the rewrite read them. */
const trimSlashes = (path: string): string => path.replace(/\/+$/, '');

/** `/api` is a segment prefix of `/api`, `/api/` and `/api/x`, never of `/apix`. */
function underPrefix(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The strip is applied to paths the route matched: it can only ever apply when it is a segment
 * prefix of the route's path (or pathPrefix), or lies below the pathPrefix.
 */
function lintStripPrefix(route: Rec, i: number, warnings: Issues): void {
  const strip = rec(route.rewrite)?.stripPrefix;
  if (typeof strip !== 'string' || trimSlashes(strip) === '') return;
  const match = rec(route.match);
  const s = trimSlashes(strip);
  let never: string | undefined;
  if (typeof match?.path === 'string') {
    if (!underPrefix(match.path, s)) never = `its only path is "${match.path}" (match.path)`;
  } else if (typeof match?.pathPrefix === 'string') {
    const p = trimSlashes(match.pathPrefix);
    if (!underPrefix(p, s) && !underPrefix(s, p))
      never = `every path it matches starts with "${p}" (match.pathPrefix)`;
  }
  if (!never) return;
  warnings.add(
    ptr('routes', i, 'rewrite', 'stripPrefix'),
    `stripPrefix "${strip}" is never stripped: ${never}; the path goes upstream unchanged`,
  );
}

// ---------------------------------------------------------------------------------------------
// Routes an earlier route always takes first

/** One route's match block, read the way the router reads it; undefined = cannot tell. */
interface MatchSet {
  /** undefined = any host. */
  readonly hosts: readonly string[] | undefined;
  readonly path: string | undefined;
  /** '' = no prefix constraint. */
  readonly prefix: string;
  /** undefined = any method. */
  readonly methods: readonly string[] | undefined;
  readonly headers: ReadonlyMap<string, string>;
}

function readMatch(route: Rec | undefined): MatchSet | undefined {
  if (!route) return undefined;
  const match = route.match === undefined ? {} : rec(route.match);
  if (!match) return undefined;
  const { host, path, pathPrefix, methods, headers } = match;
  const hostList = host === undefined ? [] : typeof host === 'string' ? [host] : strings(host);
  const parsedHosts = hostList?.map((h) => parseHostPattern(h));
  if (!parsedHosts || parsedHosts.some((h) => !h.ok)) return undefined;
  const hosts = parsedHosts.map((h) => (h.ok ? h.value : ''));
  if (path !== undefined && typeof path !== 'string') return undefined;
  if (pathPrefix !== undefined && typeof pathPrefix !== 'string') return undefined;
  // Both set is an error of its own; which one wins is not for a warning to guess.
  if (path !== undefined && pathPrefix !== undefined) return undefined;
  const methodList = methods === undefined ? [] : strings(methods);
  if (!methodList) return undefined;
  const headerMap = new Map<string, string>();
  for (const [name, value] of Object.entries(rec(headers) ?? {})) {
    if (typeof value !== 'string') return undefined;
    headerMap.set(name.toLowerCase(), value);
  }
  if (headers !== undefined && !rec(headers)) return undefined;
  return {
    hosts: hosts.length === 0 || hosts.includes('*') ? undefined : hosts,
    path,
    prefix: pathPrefix === undefined ? '' : trimSlashes(pathPrefix),
    methods: methodList.length === 0 ? undefined : methodList.map((m) => m.toUpperCase()),
    headers: headerMap,
  };
}

/** Whether the `outer` host pattern accepts every host the `inner` one does. */
function hostCovers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (!outer.startsWith('*.')) return false;
  // `*.example.com` takes `a.example.com` and `*.a.example.com`, never `example.com` itself.
  const suffix = outer.slice(1);
  const name = inner.startsWith('*.') ? inner.slice(1) : inner;
  return name.endsWith(suffix) && name.length > suffix.length;
}

/** Whether every request `later` could take is one `earlier` takes, for certain. */
function covers(earlier: MatchSet, later: MatchSet): boolean {
  if (earlier.hosts !== undefined) {
    const outer = earlier.hosts;
    if (later.hosts === undefined || !later.hosts.every((h) => outer.some((o) => hostCovers(o, h))))
      return false;
  }
  if (earlier.path !== undefined) {
    if (later.path !== earlier.path) return false;
  } else if (earlier.prefix !== '') {
    const inside =
      later.path !== undefined
        ? underPrefix(later.path, earlier.prefix)
        : later.prefix !== '' && underPrefix(later.prefix, earlier.prefix);
    if (!inside) return false;
  }
  if (earlier.methods !== undefined) {
    const outer = earlier.methods;
    if (later.methods === undefined || !later.methods.every((m) => outer.includes(m))) return false;
  }
  for (const [name, value] of earlier.headers) {
    if (later.headers.get(name) !== value) return false;
  }
  return true;
}

function lintShadowedRoutes(routes: readonly unknown[], warnings: Issues): void {
  const matches = routes.map((route) => readMatch(rec(route)));
  matches.forEach((later, j) => {
    if (!later) return;
    const i = matches.findIndex((earlier, k) => k < j && earlier !== undefined && covers(earlier, later));
    if (i === -1) return;
    const name = (k: number): string => {
      const value = rec(routes[k])?.name;
      return typeof value === 'string' ? `route "${value}"` : `routes[${k}]`;
    };
    const line = warnings.lineOf(ptr('routes', i));
    const where = line > 0 ? `routes[${i}] on line ${line}` : `routes[${i}]`;
    warnings.add(
      ptr('routes', j),
      `${name(j)} can never match: ${name(i)} (${where}) comes first and takes every request it would; move it above that route or narrow the earlier match`,
    );
  });
}

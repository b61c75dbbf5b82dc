/**
 * @module routing/router
 * Route match: (host, normalised path, method, headers) → the first route in config order that
 * accepts the request. It runs right after `normalize-path.ts` and before every policy stage; no
 * match means 404 NO_ROUTE. Built once per config (and per reload), never per request.
 *
 * A linear scan over every route would cost O(routes) per request. Instead `compileRouter`
 * indexes routes in two levels, host class then first path segment, where each bucket holds, in
 * config order, every route that could match a request of that class. A lookup picks one bucket
 * with two Map reads and checks only its few candidates, so first-match-wins is preserved and a
 * 1,000-route table costs about what a 1-route table does.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig, RouteMatch } from '../config/types';

/** A compiled route table. */
export interface Router {
  /** The routes, in config order. */
  readonly routes: readonly RouteConfig[];
  /**
   * The first route, in config order, that accepts the request; undefined when none does
   * (including a path that matches but a method that does not: the caller answers 404).
   * @param host the Host header as received (any case, with or without a port); undefined if absent
   * @param path the normalised path from `normalizeTarget`, without the query
   * @param method as received; methods are case-sensitive (RFC 9110 §9.1)
   */
  match(
    host: string | undefined,
    path: string,
    method: string,
    headers: IncomingHttpHeaders,
  ): RouteConfig | undefined;
}

interface HeaderRule {
  readonly name: string;
  readonly value: string;
}

/** One route's match block in the shape the hot path wants. */
interface Matcher {
  readonly route: RouteConfig;
  readonly exactPath: string | undefined;
  /**
   * The prefix, when the index does not prove it. A one-segment prefix (`/users`) is left out:
   * the route only sits in the bucket of that segment, so being a candidate proves it.
   */
  readonly prefixToCheck: string | undefined;
  /** undefined = any method. */
  readonly methods: readonly string[] | undefined;
  readonly headers: readonly HeaderRule[];
  readonly anyHost: boolean;
  readonly exactHosts: ReadonlySet<string>;
  /** `*.example.com` is kept as `.example.com`. */
  readonly wildcardSuffixes: readonly string[];
  /** First path segment every matching request has; undefined = any (the route goes in every bucket). */
  readonly segmentKey: string | undefined;
}

/** Candidates for one host class, bucketed by first path segment. */
interface PathTable {
  readonly bySegment: ReadonlyMap<string, readonly Matcher[]>;
  /** Routes that accept any first segment: the bucket for segments no route names. */
  readonly anySegment: readonly Matcher[];
}

/**
 * Compiles `routes` (validated, in config order) into a Router. Call once per config.
 */
export function compileRouter(routes: readonly RouteConfig[]): Router {
  return new IndexedRouter(routes, routes.map(compileMatcher));
}

/**
 * Raw Host values remembered per router. Clients send few distinct values, and remembering them
 * skips lower-casing, port stripping and the wildcard walk (about half of a lookup). The values
 * come from clients, so the cache is bounded in entries and in key length (a DNS name is at most
 * 253 bytes) and simply emptied when full: at worst about 270 KB.
 */
const HOST_CACHE_ENTRIES = 1024;
const HOST_CACHE_MAX_KEY_LENGTH = 264;

class IndexedRouter implements Router {
  /** Whether any route names a host; if not, the Host header is never even parsed. */
  private readonly hostSensitive: boolean;
  private readonly tableByRawHost = new Map<string, PathTable>();
  private readonly exactHosts = new Map<string, PathTable>();
  /** Keyed by suffix (`.example.com`); a host uses the table of the longest suffix it has. */
  private readonly wildcards = new Map<string, PathTable>();
  private readonly anyHost: PathTable;

  constructor(
    readonly routes: readonly RouteConfig[],
    matchers: readonly Matcher[],
  ) {
    this.hostSensitive = matchers.some((m) => !m.anyHost);
    this.anyHost = buildPathTable(matchers.filter((m) => m.anyHost));
    for (const m of matchers) {
      for (const host of m.exactHosts) {
        if (this.exactHosts.has(host)) continue;
        this.exactHosts.set(host, buildPathTable(matchers.filter((c) => admitsExactHost(c, host))));
      }
      for (const suffix of m.wildcardSuffixes) {
        if (this.wildcards.has(suffix)) continue;
        this.wildcards.set(suffix, buildPathTable(matchers.filter((c) => admitsWildcardClass(c, suffix))));
      }
    }
  }

  match(
    host: string | undefined,
    path: string,
    method: string,
    headers: IncomingHttpHeaders,
  ): RouteConfig | undefined {
    const table = this.hostSensitive && host !== undefined ? this.tableForRawHost(host) : this.anyHost;
    let candidates = table.anySegment;
    if (table.bySegment.size > 0) candidates = table.bySegment.get(firstSegment(path)) ?? candidates;
    for (const m of candidates) {
      if (accepts(m, path, method, headers)) return m.route;
    }
    return undefined;
  }

  private tableForRawHost(rawHost: string): PathTable {
    let table = this.tableByRawHost.get(rawHost);
    if (table !== undefined) return table;
    table = this.tableForHost(canonicalHost(rawHost));
    if (rawHost.length <= HOST_CACHE_MAX_KEY_LENGTH) {
      if (this.tableByRawHost.size >= HOST_CACHE_ENTRIES) this.tableByRawHost.clear();
      this.tableByRawHost.set(rawHost, table);
    }
    return table;
  }

  private tableForHost(host: string): PathTable {
    const exact = this.exactHosts.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcards.size > 0) {
      // The leftmost dot gives the longest suffix; every shorter configured suffix that the
      // host also has is already merged into that suffix's table.
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const table = this.wildcards.get(host.slice(dot));
        if (table !== undefined) return table;
      }
    }
    return this.anyHost;
  }
}

/** Everything the index has not already settled (it settles the host and the first segment). */
function accepts(m: Matcher, path: string, method: string, headers: IncomingHttpHeaders): boolean {
  if (m.exactPath !== undefined && path !== m.exactPath) return false;
  if (m.prefixToCheck !== undefined && !hasSegmentPrefix(path, m.prefixToCheck)) return false;
  if (m.methods !== undefined && !m.methods.includes(method)) return false;
  for (const rule of m.headers) {
    if (!headerHasValue(headers[rule.name], rule.value)) return false;
  }
  return true;
}

/** `/api/v2` is a prefix of `/api/v2`, `/api/v2/` and `/api/v2/x`, never of `/api/v2x`. */
function hasSegmentPrefix(path: string, prefix: string): boolean {
  const n = prefix.length;
  if (path.length !== n && path.charCodeAt(n) !== 0x2f) return false;
  // Measured on Node 20: a short slice and === beat startsWith by about 2x.
  return path.slice(0, n) === prefix;
}

/**
 * Node joins repeated headers with `, ` (and keeps `set-cookie` as an array), so a value matches
 * when it is the whole header or one element of such a list.
 */
function headerHasValue(actual: string | string[] | undefined, expected: string): boolean {
  if (actual === undefined) return false;
  if (typeof actual === 'string') return actual === expected || listHas(actual, expected);
  for (const value of actual) {
    if (value === expected || listHas(value, expected)) return true;
  }
  return false;
}

function listHas(list: string, expected: string): boolean {
  if (!list.includes(',')) return false;
  for (const item of list.split(',')) {
    if (item.trim() === expected) return true;
  }
  return false;
}

/** `/users/7` → `users`; `/` → `''`. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

/**
 * Host header → the name routes are keyed by: lower-cased, port and IPv6 brackets removed
 * (`[::1]:8080` → `::1`), a trailing root dot dropped (`example.com.` is `example.com`).
 */
export function canonicalHost(raw: string): string {
  let host = raw;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    if (close !== -1) host = host.slice(1, close);
  } else {
    const colon = host.lastIndexOf(':');
    // More than one colon: a bare IPv6 literal, which has no port to strip.
    if (colon !== -1 && host.indexOf(':') === colon) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === 0x2e) host = host.slice(0, -1);
  return host.toLowerCase();
}

function compileMatcher(route: RouteConfig): Matcher {
  const { match } = route;
  const exactHosts = new Set<string>();
  const wildcardSuffixes: string[] = [];
  let anyHost = match.hosts.length === 0;
  for (const host of match.hosts) {
    if (host === '*') anyHost = true;
    else if (host.startsWith('*.')) wildcardSuffixes.push(canonicalHost(host.slice(1)));
    else exactHosts.add(canonicalHost(host));
  }
  const prefix = match.pathPrefix === undefined ? undefined : trimTrailingSlashes(match.pathPrefix);
  const segmentSource = match.path ?? prefix;
  // With an exact path, the bucket is the path's; the prefix is then checked in full.
  const bucketProvesPrefix =
    match.path === undefined && prefix !== undefined && prefix.indexOf('/', 1) === -1;
  return {
    route,
    exactPath: match.path,
    prefixToCheck: bucketProvesPrefix ? undefined : prefix,
    methods: match.methods.length === 0 ? undefined : match.methods,
    headers: Object.entries(match.headers).map(([name, value]) => ({ name: name.toLowerCase(), value })),
    anyHost,
    exactHosts,
    wildcardSuffixes,
    segmentKey: segmentSource === undefined ? undefined : firstSegment(segmentSource),
  };
}

/** `/users/` → `/users`; `/` and `''` → undefined (no constraint). */
function trimTrailingSlashes(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0x2f) end--;
  return end === 0 ? undefined : prefix.slice(0, end);
}

function admitsExactHost(m: Matcher, host: string): boolean {
  return m.anyHost || m.exactHosts.has(host) || m.wildcardSuffixes.some((s) => wildcardMatches(host, s));
}

/** Whether a host whose longest configured wildcard suffix is `suffix` can match `m`. */
function admitsWildcardClass(m: Matcher, suffix: string): boolean {
  return m.anyHost || m.wildcardSuffixes.some((s) => suffix.endsWith(s));
}

/** `*.example.com` matches one or more labels before `.example.com`, never `example.com`. */
function wildcardMatches(host: string, suffix: string): boolean {
  return host.length > suffix.length && host.endsWith(suffix);
}

/** Buckets `matchers` (in config order) by first segment; any-segment routes go in every bucket. */
function buildPathTable(matchers: readonly Matcher[]): PathTable {
  const bySegment = new Map<string, Matcher[]>();
  const anySegment: Matcher[] = [];
  for (const m of matchers) {
    if (m.segmentKey === undefined) {
      anySegment.push(m);
      for (const bucket of bySegment.values()) bucket.push(m);
      continue;
    }
    let bucket = bySegment.get(m.segmentKey);
    if (bucket === undefined) {
      // Any-segment routes seen so far come first, keeping config order inside the bucket.
      bucket = anySegment.slice();
      bySegment.set(m.segmentKey, bucket);
    }
    bucket.push(m);
  }
  return { bySegment, anySegment };
}

/**
 * One line for the CLI's route table, e.g.
 * `host=api.example.com prefix=/users methods=GET,POST headers=x-tenant:acme`; `any` when the
 * route matches every request.
 */
export function describeMatch(match: RouteMatch): string {
  const parts: string[] = [];
  if (match.hosts.length > 0) parts.push(`host=${match.hosts.join(',')}`);
  if (match.path !== undefined) parts.push(`path=${match.path}`);
  if (match.pathPrefix !== undefined) parts.push(`prefix=${match.pathPrefix}`);
  if (match.methods.length > 0) parts.push(`methods=${match.methods.join(',')}`);
  const headers = Object.entries(match.headers);
  if (headers.length > 0)
    parts.push(`headers=${headers.map(([name, value]) => `${name}:${value}`).join(',')}`);
  return parts.length === 0 ? 'any' : parts.join(' ');
}

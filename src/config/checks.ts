/**
 * @module config/checks
 * Pass 2 of `validate.ts`: the cross-field rules a JSON Schema cannot express — dangling upstream
 * references (with a did-you-mean), duplicate route names, path vs pathPrefix, a route overriding a
 * shared breaker, cap-below-start durations, all-zero target weights, one target URL twice in an
 * upstream, proxy and admin listeners on one host:port, and an admin listener exposed without a
 * token. Runs on possibly invalid data, so every read is guarded.
 */
import { isIP } from 'node:net';
import * as D from './defaults';
import { didYouMean, ptr } from './schema-errors';
import { isLoopback, parseDuration, parseListen, parseTargetUrl } from './units';
import type { ListenAddress } from './types';
import type { Issues } from './validate';
import { checkRateLimits } from '../policies/rate-limit/checks';
import { checkCors } from '../policies/cors/checks';
import { checkHeaderChanges } from '../policies/headers/checks';
import { list, rec, type Rec } from './raw-data';

/** Records every cross-field problem in `data`; the schema pass has already run. */
export function checkSemantics(data: unknown, issues: Issues): void {
  const root = rec(data);
  const upstreams = rec(root?.upstreams);
  for (const [name, upstream] of Object.entries(upstreams ?? {})) checkUpstream(name, rec(upstream), issues);
  list(root?.routes).forEach((route, i) => checkRoute(rec(route), i, upstreams, issues));
  checkRouteNames(list(root?.routes), issues);
  checkServer(rec(root?.server), issues);
  checkRateLimits(root, issues);
  checkCors(root, issues);
  checkHeaderChanges(root, issues);
}

function checkUpstream(name: string, upstream: Rec | undefined, issues: Issues): void {
  const targets = list(upstream?.targets);
  const weights = targets.map(
    (t) => (typeof t === 'string' ? undefined : rec(t)?.weight) ?? D.DEFAULT_TARGET_WEIGHT,
  );
  if (targets.length > 0 && weights.every((w) => w === 0)) {
    issues.add(ptr('upstreams', name, 'targets'), 'expected at least one target with a weight above 0');
  }
  checkDuplicateTargets(name, targets, issues);
  const outlier = rec(upstream?.outlierDetection);
  if (outlier) {
    const { ejectFor, maxEjectFor } = D.DEFAULT_OUTLIER_DETECTION;
    const at = ptr('upstreams', name, 'outlierDetection');
    checkOrder(outlier, ['ejectFor', ejectFor], ['maxEjectFor', maxEjectFor], at, issues);
  }
}

/**
 * Two durations where the second must not be shorter than the first (a cap and its start).
 * The issue goes on whichever key the user wrote, the cap first.
 */
function checkOrder(
  block: Rec,
  [lowKey, lowDefault]: readonly [string, string],
  [highKey, highDefault]: readonly [string, string],
  pointer: string,
  issues: Issues,
): void {
  const low = parseDuration(block[lowKey] ?? lowDefault);
  const high = parseDuration(block[highKey] ?? highDefault);
  if (!low.ok || !high.ok || high.value >= low.value) return;
  const lowText = String(block[lowKey] ?? lowDefault);
  const highText = String(block[highKey] ?? highDefault);
  if (block[highKey] !== undefined) {
    issues.add(`${pointer}${ptr(highKey)}`, `expected at least ${lowKey} (${lowText}), got ${highText}`);
  } else {
    issues.add(
      `${pointer}${ptr(lowKey)}`,
      `expected at most ${highKey} (${highText} by default), got ${lowText}`,
    );
  }
}

function checkRoute(route: Rec | undefined, i: number, upstreams: Rec | undefined, issues: Issues): void {
  const name = route?.upstream;
  if (typeof name === 'string' && upstreams && !Object.hasOwn(upstreams, name)) {
    const defined = Object.keys(upstreams);
    const suggestion = didYouMean(name, defined);
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    issues.add(
      ptr('routes', i, 'upstream'),
      `unknown upstream "${name}"; defined upstreams: ${defined.join(', ')}${hint}`,
    );
  }
  const match = rec(route?.match);
  if (match?.path !== undefined && match.pathPrefix !== undefined) {
    issues.add(
      ptr('routes', i, 'match', 'pathPrefix'),
      'set either path (one exact path) or pathPrefix, not both',
    );
  }
  const upstream = typeof name === 'string' ? rec(upstreams?.[name]) : undefined;
  if (route?.circuitBreaker !== undefined && rec(upstream?.circuitBreaker)?.scope === 'upstream') {
    const message = `upstream "${String(name)}" shares one breaker across routes (scope: upstream), so a route cannot override it; set scope: route there or remove this block`;
    issues.add(ptr('routes', i, 'circuitBreaker'), message);
  }
  const backoff = rec(rec(route?.retry)?.backoff);
  if (backoff) {
    const { base, max } = D.DEFAULT_RETRY.backoff;
    checkOrder(backoff, ['base', base], ['max', max], ptr('routes', i, 'retry', 'backoff'), issues);
  }
}

function checkRouteNames(routes: readonly unknown[], issues: Issues): void {
  const first = new Map<string, number>();
  routes.forEach((route, i) => {
    const name = rec(route)?.name;
    if (typeof name !== 'string') return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, i);
    else {
      const line = issues.lineOf(ptr('routes', earlier, 'name'));
      const where = line > 0 ? `routes[${earlier}] on line ${line}` : `routes[${earlier}]`;
      issues.add(ptr('routes', i, 'name'), `duplicate route name "${name}"; ${where} already uses it`);
    }
  });
}

/**
 * A target is known by its URL: metrics label it, `/admin/.../targets/{url}/drain` finds it, a
 * reload carries its health over. Two entries with one origin break all three (a drain would
 * stop only the first), and more traffic is what `weight` is for.
 */
function checkDuplicateTargets(name: string, targets: readonly unknown[], issues: Issues): void {
  const first = new Map<string, number>();
  targets.forEach((target, i) => {
    const url = typeof target === 'string' ? target : rec(target)?.url;
    const parsed = parseTargetUrl(url);
    if (!parsed.ok) return;
    const earlier = first.get(parsed.value.origin);
    if (earlier === undefined) {
      first.set(parsed.value.origin, i);
      return;
    }
    const at =
      typeof target === 'string'
        ? ptr('upstreams', name, 'targets', i)
        : ptr('upstreams', name, 'targets', i, 'url');
    const line = issues.lineOf(ptr('upstreams', name, 'targets', earlier));
    const where = line > 0 ? `targets[${earlier}] on line ${line}` : `targets[${earlier}]`;
    issues.add(
      at,
      `duplicate target ${parsed.value.origin}; ${where} is the same; to send it more traffic, give that one a higher weight`,
    );
  });
}

const hostPort = ({ host, port }: ListenAddress): string =>
  `${host.includes(':') ? `[${host}]` : host}:${port}`;
const WILDCARD_V4 = '0.0.0.0';
const WILDCARD_ANY = new Set(['::', '::0', '0:0:0:0:0:0:0:0']);

/** Whether two listeners would fight over one socket (a port 0 always gets a fresh one). */
function sameSocket(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  const [x, y] = [a.host.toLowerCase(), b.host.toLowerCase()];
  if (x === y) return true;
  // A wildcard takes the port on every address of its family (`::` on both families).
  const wildcardOver = (w: string, other: string) =>
    WILDCARD_ANY.has(w) || (w === WILDCARD_V4 && isIP(other) === 4);
  return wildcardOver(x, y) || wildcardOver(y, x);
}

/** The proxy and admin listeners on one host:port: the second would fail with EADDRINUSE. */
function checkListeners(server: Rec | undefined, issues: Issues): void {
  const admin = rec(server?.admin);
  const proxy = parseListen(server?.listen ?? D.DEFAULT_LISTEN);
  const adminListen = parseListen(admin?.listen ?? D.DEFAULT_ADMIN_LISTEN);
  if (!proxy.ok || !adminListen.ok || !sameSocket(proxy.value, adminListen.value)) return;
  const same = hostPort(proxy.value) === hostPort(adminListen.value);
  if (admin?.listen !== undefined) {
    const line = issues.lineOf(ptr('server', 'listen'));
    const proxyAt =
      server?.listen === undefined ? `${hostPort(proxy.value)} by default` : `server.listen, line ${line}`;
    const what = same ? `already uses ${hostPort(proxy.value)}` : `already takes ${hostPort(proxy.value)}`;
    issues.add(
      ptr('server', 'admin', 'listen'),
      `the proxy listener (${proxyAt}) ${what}; the admin listener needs another port`,
    );
  } else {
    issues.add(
      ptr('server', 'listen'),
      `the admin listener (${hostPort(adminListen.value)} by default) already uses this port; give one of them another port`,
    );
  }
}

function checkServer(server: Rec | undefined, issues: Issues): void {
  checkListeners(server, issues);
  const admin = rec(server?.admin);
  const listen = parseListen(admin?.listen ?? D.DEFAULT_ADMIN_LISTEN);
  if (listen.ok && !isLoopback(listen.value.host) && !admin?.token) {
    const message = `admin listener on ${listen.value.host} is reachable from other machines; set server.admin.token (e.g. token: \${BREAKWATER_ADMIN_TOKEN}) or listen on 127.0.0.1`;
    issues.add(ptr('server', 'admin', 'listen'), message);
  }
  const limits = rec(server?.limits);
  // Node refuses headersTimeout > requestTimeout when it starts listening; say so here instead.
  // A requestTimeout of 0 means "none", which any headersTimeout fits under.
  const request = parseDuration(limits?.requestTimeout ?? D.DEFAULT_LIMITS.requestTimeout);
  if (limits && request.ok && request.value > 0) {
    const { headersTimeout, requestTimeout } = D.DEFAULT_LIMITS;
    const at = ptr('server', 'limits');
    checkOrder(limits, ['headersTimeout', headersTimeout], ['requestTimeout', requestTimeout], at, issues);
  }
}

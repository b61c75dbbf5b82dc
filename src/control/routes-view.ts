/**
 * @module control/routes-view
 * The live compiled route table as JSON (`GET /admin/routes`, the dashboard): what
 * `breakwater routes` prints (cli/routes-table.ts), one object per route in match order with
 * its match, upstream and targets, rewrite, host header mode, timeout and policy chain.
 */
import type { HostHeaderMode, RewriteConfig, RouteMatch } from '../config/types';
import type { RouteTable } from '../pipeline/route-table';
import { describeMatch } from '../routing/router';

export interface RouteView {
  readonly name: string;
  readonly match: RouteMatch;
  /** The match in one line, as `breakwater routes` prints it. */
  readonly matchText: string;
  readonly upstream: string;
  readonly targets: ReadonlyArray<{ url: string; weight: number }>;
  readonly rewrite: RewriteConfig | null;
  readonly hostHeader: HostHeaderMode;
  readonly timeoutMs: number;
  /** Stage kinds, outermost first, ending in "forward". */
  readonly chain: readonly string[];
}

export interface RoutesView {
  /** The config file. */
  readonly source: string;
  readonly version: string;
  readonly routes: readonly RouteView[];
}

export function routesView(table: RouteTable): RoutesView {
  return {
    source: table.config.source,
    version: table.version,
    routes: table.routes.map((route) => ({
      name: route.name,
      match: route.config.match,
      matchText: describeMatch(route.config.match),
      upstream: route.upstream.name,
      targets: route.upstream.targets.map((t) => ({ url: t.url, weight: t.weight })),
      rewrite: route.config.rewrite ?? null,
      hostHeader: route.config.hostHeader,
      timeoutMs: route.timeoutMs,
      chain: route.chain,
    })),
  };
}

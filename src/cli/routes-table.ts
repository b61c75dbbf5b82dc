/**
 * @module cli/routes-table
 * `breakwater routes`: the compiled route table as the gateway will use it, one route per
 * block, in match order, with each route's policy chain.
 */
import type { GatewayConfig, RouteConfig } from '../config/types';
import { describeMatch } from '../routing/router';
import type { RouteTable } from '../pipeline/route-table';

export function formatRouteTable(table: RouteTable): string {
  const config = table.config;
  const lines = [
    `${config.source} (version ${table.version}): ${table.routes.length} routes, first match wins`,
  ];
  table.routes.forEach((route, index) => {
    const cfg = route.config;
    lines.push('');
    lines.push(`${index + 1}. ${route.name}`);
    lines.push(`   match     ${describeMatch(cfg.match)}`);
    lines.push(
      `   upstream  ${route.upstream.name} → ${route.upstream.targets.map((t) => targetLabel(t.url, t.weight)).join(', ')}`,
    );
    if (cfg.rewrite) lines.push(`   rewrite   ${describeRewrite(cfg)}`);
    lines.push(`   host      ${describeHost(cfg)}`);
    lines.push(
      `   chain     ${[...route.chain.slice(0, -1), `forward (timeout ${cfg.timeoutMs}ms)`].join(' → ')}`,
    );
  });
  return lines.join('\n');
}

function targetLabel(url: string, weight: number): string {
  return weight === 1 ? url : `${url} (weight ${weight})`;
}

function describeRewrite(route: RouteConfig): string {
  const parts: string[] = [];
  if (route.rewrite?.stripPrefix) parts.push(`strip ${route.rewrite.stripPrefix}`);
  if (route.rewrite?.addPrefix) parts.push(`add ${route.rewrite.addPrefix}`);
  return parts.join(', ');
}

function describeHost(route: RouteConfig): string {
  const mode = route.hostHeader;
  return mode.kind === 'value' ? `set to ${mode.value}` : mode.kind;
}

export type { GatewayConfig };

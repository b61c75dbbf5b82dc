/**
 * @module admin/dashboard-data
 * `GET /admin/dashboard.json`: everything the dashboard shows, gathered from the control in
 * one answer (health with targets and breakers, the route table, per-route stats, recent
 * reloads), so the page makes one request per refresh and a cluster answers for all workers.
 */
import type { HealthReport } from './health';
import type { GatewayControl, ReloadRecord, RoutesView } from '../control/control';
import type { StatsReport } from '../observability/stats';

export interface DashboardData {
  readonly generatedAt: string;
  readonly health: HealthReport;
  readonly routes: RoutesView;
  readonly stats: StatsReport;
  readonly reloads: readonly ReloadRecord[];
}

/** Reloads shown on the page. */
const RECENT_RELOADS = 8;

export async function dashboardData(control: GatewayControl): Promise<DashboardData> {
  const [health, routes, stats, reloads] = await Promise.all([
    control.health(),
    control.routes(),
    control.stats(),
    control.reloads(),
  ]);
  return {
    generatedAt: new Date().toISOString(),
    health,
    routes,
    stats,
    reloads: reloads.slice(0, RECENT_RELOADS),
  };
}

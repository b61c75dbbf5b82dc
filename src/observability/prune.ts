/**
 * @module observability/prune
 * After a reload, the series of routes, upstreams, targets and breakers that the new config no
 * longer has leave /metrics (a dashboard should not show a removed route forever, and label
 * cardinality stays bounded by the running config). Requests still running on the old table
 * may report under the old names after the swap, so the gateway prunes again until they are
 * done (`SeriesPruner`).
 */
import type { Metric, Registry } from 'prom-client';
import type { RouteTable } from '../pipeline/route-table';

/** The names the running config uses. */
export interface LiveNames {
  readonly routes: ReadonlySet<string>;
  /** Upstream name → its target URLs. */
  readonly upstreams: ReadonlyMap<string, ReadonlySet<string>>;
  /** `${upstream}\n${route label}` of every breaker (route label "*" for scope upstream). */
  readonly breakers: ReadonlySet<string>;
}

/** Labels that do not name a config object and are never pruned. */
const UNMATCHED = '_unmatched';

export function liveNames(table: RouteTable): LiveNames {
  const upstreams = new Map<string, Set<string>>();
  const breakers = new Set<string>();
  for (const upstream of table.upstreams.values()) {
    upstreams.set(upstream.name, new Set(upstream.targets.map((t) => t.url)));
    for (const route of upstream.breakers.keys()) breakers.add(`${upstream.name}\n${route}`);
  }
  return { routes: new Set(table.routes.map((r) => r.name)), upstreams, breakers };
}

/**
 * Whether a label set still names something in the running config. On breaker series
 * (`breaker`: circuit_*) the route label is the breaker's: a route name or "*".
 */
export function isLive(
  labels: Readonly<Record<string, string | number | undefined>>,
  live: LiveNames,
  breaker = false,
): boolean {
  const { route, upstream, target } = labels;
  if (upstream !== undefined) {
    const targets = live.upstreams.get(String(upstream));
    if (!targets) return false;
    if (target !== undefined && !targets.has(String(target))) return false;
    if (breaker && route !== undefined) return live.breakers.has(`${upstream}\n${route}`);
  }
  return route === undefined || route === UNMATCHED || live.routes.has(String(route));
}

/** Removes every series whose labels are not live; returns how many label sets went. */
export async function pruneSeries(registry: Registry, live: LiveNames): Promise<number> {
  let removed = 0;
  // getMetricsAsArray() is typed as plain descriptions; the objects are the metrics themselves.
  for (const metric of registry.getMetricsAsArray() as unknown as Metric[]) {
    const { name, values } = await metric.get();
    const breaker = name.includes('_circuit_');
    const dead = new Map<string, Record<string, string | number | undefined>>();
    for (const { labels } of values) {
      if (!('route' in labels || 'upstream' in labels)) continue;
      // Histogram buckets carry `le`; the series is the label set without it.
      const { le: _le, ...series } = labels;
      if (!isLive(series, live, breaker)) dead.set(JSON.stringify(series), series);
    }
    for (const labels of dead.values()) metric.remove(labels as Record<string, string | number>);
    removed += dead.size;
  }
  return removed;
}

/** Prunes now and then once a second until the old table's requests have finished. */
export class SeriesPruner {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: Registry,
    /** Forgets cached children; returns how many retired routes still have requests in flight. */
    private readonly retire: (live: LiveNames) => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts pruning for `live`; keeps going for at least `graceMs` (the old routes' longest timeout). */
  schedule(live: LiveNames, graceMs: number): void {
    this.stop();
    const until = performance.now() + graceMs;
    const run = () => {
      this.timer = undefined;
      const busy = this.retire(live);
      pruneSeries(this.registry, live).then(() => {
        if (busy > 0 || performance.now() < until) this.timer = setTimeout(run, 1000).unref();
      }, this.onError);
    };
    run();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

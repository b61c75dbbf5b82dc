/**
 * @module cluster/control
 * `GatewayControl` in the cluster primary (`server.workers` > 1): every action is sent to every
 * worker over IPC (cluster/ask.ts) and succeeds only when they all did it; every read asks
 * every worker and merges: health (most broken wins, in-flight summed), metrics (prom-client's
 * aggregation of each worker's registry plus the primary's reload counter), stats (counts and
 * latency histograms summed, then percentiles), cache figures (summed per route, ratios again). Reloads are validated here, once, and the text
 * is sent to the workers. Drains and forced-open breakers are remembered and replayed to a
 * worker that starts later (a replacement for one that died), so it does not undo them.
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { HealthReport } from '../admin/health';
import type { GatewayConfig } from '../config/types';
import {
  ControlError,
  type BreakerChange,
  type GatewayControl,
  type MetricsText,
  type PurgeResult,
  type ReloadRecord,
  type ReloadTrigger,
  type RoutesView,
  type TargetChange,
} from '../control/control';
import { mergeCacheStats, type CacheStats } from '../control/cache-stats';
import { redactConfig } from '../control/redact';
import type { ConfigReloader } from '../control/reloader';
import { mergeSnapshots, summarize, type StatsReport, type StatsSnapshot } from '../observability/stats';
import { askWorkers } from './ask';
import { mergeHealth, type WorkerHealth } from './merge-health';
import type { ControlResponse, StandingActions, WorkerOp } from './messages';

/** What the control reads from the primary. */
export interface PrimaryRuntime {
  readonly reloader: ConfigReloader;
  /** The primary's own metrics (config_reloads_total), added to the workers'. */
  readonly registry: Registry;
  /** The config the primary last accepted and when. */
  running(): { readonly config: GatewayConfig; readonly loadedAt: string };
  /** True once SIGTERM/SIGINT arrived: readiness fails, no reload is sent. */
  readonly stopping: boolean;
  /** Workers that have started serving (a starting worker cannot answer yet). */
  readyWorkers(): Worker[];
}

type Args = ReadonlyArray<string | undefined>;

export class ClusterControl implements GatewayControl {
  /** Standing operator actions, for workers that start later: key → the op's arguments. */
  private readonly drained = new Map<string, [string, string]>();
  private readonly forced = new Map<string, [string, string | undefined]>();

  constructor(private readonly runtime: PrimaryRuntime) {}

  reload(trigger: ReloadTrigger = 'admin'): Promise<ReloadRecord> {
    return this.runtime.reloader.reload(trigger);
  }

  async resetBreaker(upstream: string, route?: string): Promise<BreakerChange> {
    const [change] = await this.everyWorker<BreakerChange>('resetBreaker', [upstream, route]);
    for (const [key, args] of this.forced)
      if (args[0] === upstream && (route === undefined || args[1] === route)) this.forced.delete(key);
    return change!;
  }

  async openBreaker(upstream: string, route?: string): Promise<BreakerChange> {
    const [change] = await this.everyWorker<BreakerChange>('openBreaker', [upstream, route]);
    this.forced.set(`${upstream}\n${route ?? ''}`, [upstream, route]);
    return change!;
  }

  async purgeCache(route?: string): Promise<PurgeResult> {
    const results = await this.everyWorker<PurgeResult>('purgeCache', [route]);
    return { route: route ?? null, purged: results.reduce((sum, r) => sum + r.purged, 0) };
  }

  /** Each worker's memory store and counts, summed per route. */
  async cacheStats(): Promise<CacheStats> {
    return mergeCacheStats(await this.everyWorker<CacheStats>('cacheStats', []));
  }

  async drainTarget(upstream: string, url: string): Promise<TargetChange> {
    const change = await this.targetChange('drainTarget', upstream, url);
    this.drained.set(`${upstream}\n${change.target}`, [upstream, change.target]);
    return change;
  }

  async undrainTarget(upstream: string, url: string): Promise<TargetChange> {
    const change = await this.targetChange('undrainTarget', upstream, url);
    this.drained.delete(`${upstream}\n${change.target}`);
    return change;
  }

  async config(): Promise<unknown> {
    return redactConfig(this.runtime.running().config);
  }

  async routes(): Promise<RoutesView> {
    const [view] = await this.everyWorker<RoutesView>('routes', []);
    return view!;
  }

  async stats(): Promise<StatsReport> {
    const answers = await this.everyWorker<{ snapshot: StatsSnapshot; routes: string[] }>('stats', []);
    return summarize(mergeSnapshots(answers.map((a) => a.snapshot)), answers[0]!.routes);
  }

  async health(): Promise<HealthReport> {
    const { report } = mergeHealth(await this.healthAnswers(), this.runtime.stopping);
    if (report.version) report.loadedAt = this.runtime.running().loadedAt;
    return report;
  }

  async notReady(): Promise<string[]> {
    if (this.runtime.stopping) return ['draining'];
    return mergeHealth(await this.healthAnswers(), false).notReady;
  }

  async reloads(): Promise<readonly ReloadRecord[]> {
    return this.runtime.reloader.history.list();
  }

  async metrics(): Promise<MetricsText> {
    type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
    const workers = await this.everyWorker<MetricsJson>('metrics', []);
    const merged = AggregatorRegistry.aggregate([...workers, await this.runtime.registry.getMetricsAsJSON()]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  /** Sends the config text the primary accepted to every worker; resolves with the version run. */
  async applyConfig(text: string, timeoutMs: number): Promise<string> {
    const answers = await this.everyWorker<{ version: string }>('applyConfig', [text], { timeoutMs });
    return answers[0]!.version;
  }

  /** What a starting worker applies before it takes connections (cluster/worker.ts). */
  standing(): StandingActions {
    return {
      drains: [...this.drained.values()],
      forced: [...this.forced.values()].map(([upstream, route]) => [upstream, route ?? null] as const),
    };
  }

  /**
   * Brings a worker that just started serving up to date with what changed while it started: a
   * reload (the config text), a drain or a forced breaker. Sent together: IPC keeps their order.
   */
  async replay(worker: Worker, text: string): Promise<void> {
    const calls: Array<[WorkerOp, Args]> = [
      ['applyConfig', [text]],
      ...[...this.drained.values()].map((args): [WorkerOp, Args] => ['drainTarget', args]),
      ...[...this.forced.values()].map((args): [WorkerOp, Args] => ['openBreaker', args]),
    ];
    // A name a reload has removed since is refused (404) by the worker; nothing to do then.
    await Promise.all(calls.map(([op, args]) => askWorkers(op, args, { workers: [worker] })));
  }

  private async targetChange(op: WorkerOp, upstream: string, url: string): Promise<TargetChange> {
    const changes = await this.everyWorker<TargetChange>(op, [upstream, url]);
    return { ...changes[0]!, inflight: changes.reduce((sum, c) => sum + c.inflight, 0) };
  }

  private async healthAnswers(): Promise<WorkerHealth[]> {
    return values<WorkerHealth>(await askWorkers('health', [], { workers: this.runtime.readyWorkers() }));
  }

  /** `op` on every worker; refused when no worker answered or any refused (with its error). */
  private async everyWorker<T>(op: WorkerOp, args: Args, options: { timeoutMs?: number } = {}): Promise<T[]> {
    const answers = await askWorkers(op, args, { ...options, workers: this.runtime.readyWorkers() });
    if (answers.length === 0) throw new ControlError(503, 'NO_WORKER', 'No worker answered');
    for (const answer of answers)
      if (!answer.ok) throw new ControlError(answer.error.status, answer.error.code, answer.error.message);
    return values<T>(answers);
  }
}

function values<T>(answers: readonly ControlResponse[]): T[] {
  return answers.flatMap((a) => (a.ok ? [a.value as T] : []));
}

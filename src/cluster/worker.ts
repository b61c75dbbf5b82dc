/**
 * @module cluster/worker
 * A cluster worker: a full gateway on the shared proxy port, without an admin listener; it
 * hands its metrics registry to prom-client's aggregator and answers the primary's health asks.
 */
import { AggregatorRegistry } from 'prom-client';
import { localSources } from '../admin/server';
import type { Gateway } from '../gateway';
import { HEALTH_RESPONSE, isHealthRequest, type HealthResponse } from './messages';

export function serveClusterWorker(gateway: Gateway): void {
  AggregatorRegistry.setRegistries([gateway.metrics.registry]);
  // Constructing one is what makes prom-client answer the primary's metrics requests here.
  new AggregatorRegistry();
  // The same answers a single process gives on its own admin listener.
  const sources = localSources(gateway.metrics, gateway.health, gateway.logger.logger);
  process.on('message', (message: unknown) => {
    if (!isHealthRequest(message)) return;
    void Promise.all([sources.health(), sources.notReady()]).then(([report, notReady]) => {
      const response: HealthResponse = { type: HEALTH_RESPONSE, id: message.id, report, notReady };
      process.send?.(response);
    });
  });
}

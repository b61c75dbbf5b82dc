/**
 * Which series survive a reload: those whose route, upstream, target or breaker the running
 * config still has; `_unmatched` and label-free series always stay.
 */
import { GatewayMetrics } from './metrics';
import { isLive, pruneSeries, type LiveNames } from './prune';

const live: LiveNames = {
  routes: new Set(['api']),
  upstreams: new Map([['users', new Set(['http://10.0.0.5:3000'])]]),
  breakers: new Set(['users\napi', 'users\n*']),
};

describe('series pruning', () => {
  it.each([
    [{ route: 'api', method: 'GET', code: '200' }, false, true],
    [{ route: 'gone', method: 'GET', code: '200' }, false, false],
    [{ route: '_unmatched', method: 'GET', code: '404' }, false, true],
    [{ upstream: 'users', target: 'http://10.0.0.5:3000', outcome: 'success' }, false, true],
    [{ upstream: 'users', target: 'http://10.0.0.9:3000', outcome: 'success' }, false, false],
    [{ upstream: 'legacy' }, false, false],
    [{ upstream: 'users', route: '*' }, true, true],
    [{ upstream: 'users', route: 'gone' }, true, false],
    [{ code: '400' }, false, true],
  ])('%j (breaker series: %p) is live: %p', (labels, breaker, expected) => {
    expect(isLive(labels, live, breaker)).toBe(expected);
  });

  it('removes dead label sets from every metric, histograms included', async () => {
    const metrics = new GatewayMetrics();
    metrics.requests.labels('api', 'GET', '200').inc();
    metrics.requests.labels('gone', 'GET', '200').inc();
    metrics.requestDuration.labels('gone').observe(0.1);
    metrics.circuitState.labels('users', 'gone').set(2);
    metrics.circuitState.labels('users', 'api').set(0);
    metrics.targetHealthy.labels('legacy', 'http://x').set(1);
    expect(await pruneSeries(metrics.registry, live)).toBe(4);
    const text = await metrics.render();
    expect(text).not.toMatch(/"gone"|"legacy"/);
    expect(text).toContain('breakwater_requests_total{route="api",method="GET",code="200"} 1');
    expect(text).toContain('breakwater_circuit_state{upstream="users",route="api"} 0');
  });
});

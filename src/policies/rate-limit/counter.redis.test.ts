/**
 * The Redis backend of the rate-limit counters against a real redis-server: two "replicas"
 * (two SharedState connections, two state stores) share one count; an outage fails over to
 * each replica's own memory at once (no request fails, no round trip); a restart brings the
 * shared count back; the raw values of counted headers never reach Redis. Prints the cost of
 * one consume. Skipped (with a message) only where redis-server is missing outside CI.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../observability/logger';
import { StateStore } from '../../pipeline/state-store';
import { SharedState } from '../../state/shared-state';
import { redisTestsEnabled, startRedis, type TestRedis } from '../../../test/helpers/redis';
import { keepCounter, type Counter } from './counter';
import { digest } from './key';

const enabled = redisTestsEnabled();
if (!enabled)
  console.warn('counter.redis.test: redis-server not installed; skipping (CI=true makes this a failure)');
const describeRedis = enabled ? describe : describe.skip;

const log = createLogger({ stream: new Writable({ write: (_c, _e, done) => done() }) }).logger;

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function allowedOf(counters: Counter[], key: string, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await counters[i % counters.length]!.consume(key)).allowed) allowed++;
  return allowed;
}

describeRedis('rate-limit counters on Redis', () => {
  let redis: TestRedis;
  const shared: SharedState[] = [];
  const stores: StateStore[] = [];
  let counters: Counter[];

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) {
      const state = new SharedState({ url: redis.url, keyPrefix: 'bwtest:', log });
      shared.push(state);
      stores.push(new StateStore());
    }
    await waitFor(() => shared.every((s) => s.up));
    counters = shared.map((s, i) =>
      keepCounter(
        { id: 'r:0:ip', points: 10, windowSeconds: 60 },
        { state: stores[i]!, shared: s, clustered: false },
      ),
    );
  });

  afterAll(async () => {
    stores.forEach((s) => s.disposeAll());
    await Promise.all(shared.map((s) => s.close()));
    await redis?.close();
  });

  it('two replicas share one count: exactly the limit passes', async () => {
    expect(await allowedOf(counters, 'shared-1', 20)).toBe(10);
  });

  it('stores only the prefixed key, never a header value', async () => {
    const secret = 'api-key-that-must-not-leak';
    await counters[0]!.consume(`h:${digest(secret)}`);
    const keys = await redis.client().keys('*');
    expect(keys.every((k) => k.startsWith('bwtest:rl:r:0:ip:10:60:'))).toBe(true);
    expect(keys.some((k) => k.includes(secret))).toBe(false);
  });

  it('prints the cost of one consume through Redis and in memory', async () => {
    const n = 2000;
    let start = performance.now();
    for (let i = 0; i < n; i++) await counters[0]!.consume(`cost-${i % 50}`);
    const redisUs = ((performance.now() - start) * 1000) / n;
    const memory = new StateStore();
    const local = keepCounter(
      { id: 'cost', points: 1e6, windowSeconds: 60 },
      { state: memory, shared: undefined, clustered: false },
    );
    start = performance.now();
    for (let i = 0; i < n * 10; i++) await local.consume(`cost-${i % 50}`);
    const memoryUs = ((performance.now() - start) * 1000) / (n * 10);
    console.log(
      `rate-limit consume: redis ${redisUs.toFixed(1)} µs, memory ${memoryUs.toFixed(2)} µs (sequential)`,
    );
    expect(redisUs).toBeGreaterThan(0);
  });

  it('an outage never fails a request and each replica enforces the full limit locally', async () => {
    await redis.kill();
    // Before `up` turns false the library refuses at once (rejectIfRedisNotReady) and insures.
    const first = await counters[0]!.consume('outage-0');
    expect(first.allowed).toBe(true);
    await waitFor(() => shared.every((s) => !s.up));
    let slowestMs = 0;
    const perReplica = [];
    for (const counter of counters) {
      let allowed = 0;
      for (let i = 0; i < 12; i++) {
        const start = performance.now();
        if ((await counter.consume('outage-1')).allowed) allowed++;
        slowestMs = Math.max(slowestMs, performance.now() - start);
      }
      perReplica.push(allowed);
    }
    expect(perReplica).toEqual([10, 10]);
    expect(slowestMs).toBeLessThan(15);
  });

  it('after a restart the count is shared again', async () => {
    await redis.restart();
    await waitFor(() => shared.every((s) => s.up), 10_000);
    expect(await allowedOf(counters, 'after-restart', 20)).toBe(10);
  });
});

/**
 * An upstream that dies for 3 s under steady load: what clients see through a plain route and
 * through a route with breaker + retry + fallback, and how hard each hits the dying upstream.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, respond, type TestUpstream } from '../helpers/upstream';
import { sleep } from '../helpers/http';

const HEALTHY_MS = 1000;
const OUTAGE_MS = 3000;
const RECOVERED_MS = 1500;
const CLIENTS = 8;

interface Tally {
  ok: number;
  degraded: number;
  errors: number;
  /** Requests sent while the upstream was down, and how many of those failed. */
  duringOutage: number;
  errorsDuringOutage: number;
}

const newTally = (): Tally => ({ ok: 0, degraded: 0, errors: 0, duringOutage: 0, errorsDuringOutage: 0 });

describe('a 3 s outage under steady load', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let down = false;
  let hitsDuringOutage = { plain: 0, protected: 0 };

  beforeAll(async () => {
    up = await startUpstream((req, res, hit) => {
      if (down) {
        const which = req.url!.startsWith('/plain') ? 'plain' : 'protected';
        hitsDuringOutage[which]++;
        return void req.socket.resetAndDestroy();
      }
      void respond(200, 'fresh')(req, res, hit);
    });
    gw = await startGateway(`
upstreams:
  plain: { targets: ["${up.url}"] }
  protected:
    targets: ["${up.url}"]
    circuitBreaker: { volumeThreshold: 10, errorThresholdPercentage: 50, window: 2s, resetTimeout: 500ms }
routes:
  - { name: plain, match: { pathPrefix: /plain }, upstream: plain }
  - name: protected
    match: { pathPrefix: /protected }
    upstream: protected
    timeout: 1s
    retry: { attempts: 2, backoff: { base: 10ms, max: 50ms } }
    fallback: { status: 200, headers: { content-type: application/json }, body: '{"degraded":true}' }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  async function steadyLoad(path: string, until: number, tally: Tally): Promise<void> {
    while (performance.now() < until) {
      const sentWhileDown = down;
      const res = await request(`${gw.url}${path}`).catch(() => undefined);
      const body = res ? await res.body.text() : '';
      const failed = !res || res.statusCode >= 500;
      if (sentWhileDown) {
        tally.duringOutage++;
        if (failed) tally.errorsDuringOutage++;
      }
      if (failed) tally.errors++;
      else if (body.includes('degraded')) tally.degraded++;
      else tally.ok++;
      await sleep(5);
    }
  }

  it('keeps clients served with breaker + fallback while plain proxying fails them', async () => {
    const plain = newTally();
    const guarded = newTally();
    hitsDuringOutage = { plain: 0, protected: 0 };
    const end = performance.now() + HEALTHY_MS + OUTAGE_MS + RECOVERED_MS;
    const load = [
      ...Array.from({ length: CLIENTS / 2 }, () => steadyLoad('/plain', end, plain)),
      ...Array.from({ length: CLIENTS / 2 }, () => steadyLoad('/protected', end, guarded)),
    ];
    await sleep(HEALTHY_MS);
    down = true;
    await sleep(OUTAGE_MS);
    down = false;
    await Promise.all(load);

    const rate = (t: Tally) => t.errors / (t.ok + t.degraded + t.errors);
    // The closing note of the resilience issue quotes these figures.
    console.log(
      `outage: plain error rate ${(rate(plain) * 100).toFixed(1)}% (${JSON.stringify(plain)}), ` +
        `breaker+retry+fallback error rate ${(rate(guarded) * 100).toFixed(1)}% (${JSON.stringify(guarded)}); ` +
        `upstream hits during the outage: plain ${hitsDuringOutage.plain}, protected ${hitsDuringOutage.protected}`,
    );
    // Judged on the requests sent during the outage: how many fall in it depends on how busy the
    // machine is, but nearly every one of them fails through the plain route.
    expect(plain.duringOutage).toBeGreaterThan(0);
    expect(plain.errorsDuringOutage / plain.duringOutage).toBeGreaterThan(0.5);
    expect(rate(guarded)).toBeLessThan(0.01);
    expect(guarded.degraded).toBeGreaterThan(0);
    expect(guarded.ok).toBeGreaterThan(0);
    // The breaker keeps most of the protected route's traffic off the dying upstream: fewer
    // upstream hits than half its own requests in the outage (without it, every request would
    // hit it, twice with the retry). Compared with its own requests, not with the plain route's
    // hits: those fall with machine load while the breaker's trials do not.
    expect(hitsDuringOutage.protected).toBeLessThan(guarded.duringOutage / 2);
  }, 20_000);
});

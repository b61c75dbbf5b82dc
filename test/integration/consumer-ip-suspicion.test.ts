/**
 * `consumers.maxIpsPerKey` against the real gateway: client addresses come from
 * X-Forwarded-For, trusted from the loopback test client. A known key used from one address
 * more than `ips` in its window gets one warn line (fingerprint, tier, ips, window; never the
 * key) and one `consumer_key_suspicious_total{tier}`; with `action: refuse` the addresses beyond
 * the first `ips` get 403 KEY_SHARED, never forwarded and spending no rate-limit points, while
 * the first ones keep working; unknown keys and requests without a key are never counted.
 */
import { createHash } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get } from '../helpers/http';
import { echo, startUpstream, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const PRO_KEY = 'pro-key-2f6d1c0b7a';
const FREE_KEY = 'free-key-93be4410d2';
const sha = (key: string) => createHash('sha256').update(key).digest('hex');

const config = (upstream: string, action: string) => `
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }
  trustProxy: [127.0.0.1]
upstreams:
  app: { targets: ["${upstream}"] }
routes:
  - name: limited
    match: { pathPrefix: /limited }
    upstream: app
    rateLimit: { key: consumer }
  - name: open
    upstream: app
consumers:
  keys:
    "sha256:${sha(PRO_KEY)}": pro
    "sha256:${sha(FREE_KEY)}": free
  defaultTier: free
  maxIpsPerKey: { ips: 3, window: 1h${action ? `, action: ${action}` : ''} }
tiers:
  free: { limit: 100, window: 1m }
  pro: { limit: 100, window: 1m }
`;

const from = (ip: string, key?: string): Record<string, string> => ({
  'x-forwarded-for': ip,
  ...(key === undefined ? {} : { 'x-api-key': key }),
});

const warnLines = (gw: TestGateway) => gw.logs.filter((l) => l.msg === 'consumer key used from many IPs');
const suspicious = async (gw: TestGateway, tier: string) => {
  const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
  const match = new RegExp(`breakwater_consumer_key_suspicious_total\\{tier="${tier}"\\} (\\d+)`).exec(
    metrics,
  );
  return match ? Number(match[1]) : 0;
};

describe('consumers.maxIpsPerKey (warn)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream(echo());
    gw = await startGateway(config(up.url, ''));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('logs and counts the first address over the limit once per window, and still forwards', async () => {
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1'])
      expect((await get(`${gw.url}/open/x`, from(ip, PRO_KEY))).status).toBe(200);
    expect(warnLines(gw)).toHaveLength(0);
    expect(await suspicious(gw, 'pro')).toBe(0);

    const hitsBefore = up.hits;
    for (const ip of ['10.0.0.4', '10.0.0.5', '10.0.0.4'])
      expect((await get(`${gw.url}/limited/x`, from(ip, PRO_KEY))).status).toBe(200);
    expect(up.hits - hitsBefore).toBe(3);
    await waitFor(() => warnLines(gw).length === 1, 'the warn line');
    expect(warnLines(gw)[0]).toMatchObject({
      level: 'warn',
      event: 'consumer_key_shared',
      key: sha(PRO_KEY).slice(0, 12),
      tier: 'pro',
      ips: 4,
      limit: 3,
      window: '1h',
      action: 'warn',
      route: 'limited',
      clientIp: '10.0.0.4',
    });
    expect(await suspicious(gw, 'pro')).toBe(1);
    // The raw key never reaches a log line; its full hash does not either.
    const text = JSON.stringify(gw.logs);
    expect(text).not.toContain(PRO_KEY);
    expect(text).not.toContain(sha(PRO_KEY));
  });

  it('counts each key apart, and ignores unknown keys and requests without one', async () => {
    for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']) {
      await get(`${gw.url}/open/y`, from(ip, 'not-a-configured-key'));
      await get(`${gw.url}/open/y`, from(ip));
    }
    for (const ip of ['10.2.0.1', '10.2.0.2', '10.2.0.3']) await get(`${gw.url}/open/y`, from(ip, FREE_KEY));
    expect(await suspicious(gw, 'free')).toBe(0);
    await get(`${gw.url}/open/y`, from('10.2.0.4', FREE_KEY));
    expect(await suspicious(gw, 'free')).toBe(1);
    expect(warnLines(gw).map((l) => l.tier)).toEqual(['pro', 'free']);
  });

  it('shows the stage in every route chain, before the rate limit', async () => {
    const routes = (await get(`${gw.adminUrl}/admin/routes`)).json<{
      routes: Array<{ name: string; chain: string[] }>;
    }>();
    expect(routes.routes.map((r) => [r.name, r.chain])).toEqual([
      ['limited', ['key-sharing', 'rate-limit', 'forward']],
      ['open', ['key-sharing', 'forward']],
    ]);
  });
});

describe('consumers.maxIpsPerKey (refuse)', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream(echo());
    gw = await startGateway(config(up.url, 'refuse'));
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('answers 403 KEY_SHARED to addresses beyond the first `ips`, never forwarded, no points spent', async () => {
    const first = await get(`${gw.url}/limited/a`, from('10.0.0.1', PRO_KEY));
    expect(first.headers['ratelimit-remaining']).toBe('99');
    for (const ip of ['10.0.0.2', '10.0.0.3'])
      expect((await get(`${gw.url}/limited/a`, from(ip, PRO_KEY))).status).toBe(200);
    const hitsBefore = up.hits;

    const refused = await get(`${gw.url}/limited/a`, from('10.0.0.4', PRO_KEY));
    expect(refused.status).toBe(403);
    const body = refused.json<{ error: { code: string; requestId: string; retryAfter: number } }>();
    expect(body.error.code).toBe('KEY_SHARED');
    expect(body.error.requestId).toBe(refused.headers['x-request-id']);
    // Until the key's window ends (1h, started by the first request).
    expect(body.error.retryAfter).toBeGreaterThan(3500);
    expect(body.error.retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.headers['retry-after']).toBe(String(body.error.retryAfter));
    expect(JSON.stringify(body)).not.toContain(PRO_KEY);
    const again = await get(`${gw.url}/open/b`, from('10.0.0.5', PRO_KEY));
    expect(again.status).toBe(403);
    expect(up.hits).toBe(hitsBefore);

    // The first three keep working; the refused ones spent no rate-limit points.
    const kept = await get(`${gw.url}/limited/a`, from('10.0.0.2', PRO_KEY));
    expect(kept.status).toBe(200);
    expect(kept.headers['ratelimit-remaining']).toBe('96');
    expect(up.hits).toBe(hitsBefore + 1);

    await waitFor(() => warnLines(gw).length === 1, 'the warn line');
    expect(warnLines(gw)[0]).toMatchObject({ action: 'refuse', ips: 4, tier: 'pro' });
    expect(await suspicious(gw, 'pro')).toBe(1);
    await waitFor(
      () => gw.accessLines().some((l) => l.reqId === refused.headers['x-request-id']),
      'access line',
    );
    expect(gw.accessLines().find((l) => l.reqId === refused.headers['x-request-id'])).toMatchObject({
      status: 403,
      reason: 'key_shared',
      route: 'limited',
    });
  });

  it('never refuses requests without a known key', async () => {
    for (const ip of ['10.3.0.1', '10.3.0.2', '10.3.0.3', '10.3.0.4', '10.3.0.5'])
      expect((await get(`${gw.url}/open/c`, from(ip, 'unknown'))).status).toBe(200);
  });
});

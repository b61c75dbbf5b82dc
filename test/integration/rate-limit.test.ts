/**
 * Rate limits and slowDown through the real gateway (in-process, memory backend) in front of a
 * real loopback upstream: what the client gets (statuses, 429 body, headers), what reached the
 * upstream, the metrics on the admin listener and the access/log lines.
 */
import { createHash } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get, type SimpleResponse } from '../helpers/http';
import { startUpstream, type TestUpstream } from '../helpers/upstream';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let up: TestUpstream;
let gw: TestGateway | undefined;

beforeAll(async () => {
  up = await startUpstream();
});
afterAll(() => up.close());
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/**
 * A gateway with one route `r` carrying `policy` (YAML lines under the route), and `top` blocks.
 * Loopback is a trusted proxy, so X-Forwarded-For stands for distinct client addresses.
 */
async function gateway(policy: string, top = ''): Promise<TestGateway> {
  gw = await startGateway(`server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  trustProxy: [127.0.0.1/32]
upstreams:
  api: { targets: ["${up.url}"] }
routes:
  - name: r
    upstream: api
${policy}
${top}`);
  return gw;
}

async function send(
  count: number,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<SimpleResponse[]> {
  const out: SimpleResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await get(`${gw!.url}/x`, headers, method));
  return out;
}

const statusesOf = (responses: SimpleResponse[]) => responses.map((r) => r.status);
const metrics = async () => (await get(`${gw!.adminUrl}/metrics`)).text;

describe('rate limits through the gateway', () => {
  it('key ip: the limit passes, then 429 with Retry-After, the JSON body and the headers', async () => {
    await gateway('    rateLimit: { key: ip, limit: 3, window: 1m }');
    const hitsBefore = up.hits;
    const responses = await send(5);
    expect(statusesOf(responses)).toEqual([200, 200, 200, 429, 429]);
    expect(up.hits - hitsBefore).toBe(3);
    expect(responses.map((r) => r.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0', '0']);
    expect(responses[0]!.headers['ratelimit-limit']).toBe('3');
    expect(responses[0]!.headers['ratelimit-policy']).toBe('3;w=60');
    const refused = responses[3]!;
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-reset']).toBe(String(retryAfter));
    expect(refused.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: refused.headers['x-request-id'],
        retryAfter,
      },
    });
    expect(await metrics()).toMatch(/breakwater_rate_limited_total\{route="r",tier="",mode="enforce"\} 2/);
    expect(gw!.accessLines().filter((l) => l.reason === 'rate_limited')).toHaveLength(2);
    // Another client address has its own count.
    expect(statusesOf(await send(1, { 'x-forwarded-for': '203.0.113.9' }))).toEqual([200]);
  });

  it('key route: every client shares one count', async () => {
    await gateway('    rateLimit: { key: route, limit: 2, window: 1m }');
    expect(statusesOf(await send(1, { 'x-forwarded-for': '1.1.1.1' }))).toEqual([200]);
    expect(statusesOf(await send(2, { 'x-forwarded-for': '2.2.2.2' }))).toEqual([200, 429]);
  });

  it('key header: per value; requests without the header counted by client IP', async () => {
    await gateway('    rateLimit: { key: "header:x-client", limit: 2, window: 1m }');
    expect(statusesOf(await send(3, { 'x-client': 'a' }))).toEqual([200, 200, 429]);
    expect(statusesOf(await send(1, { 'x-client': 'b' }))).toEqual([200]);
    expect(statusesOf(await send(3))).toEqual([200, 200, 429]);
  });

  it('a list with methods: writes have their own tighter limit; reads do not spend it', async () => {
    await gateway(`    rateLimit:
      - { key: ip, limit: 2, window: 1m, methods: [POST] }
      - { key: ip, limit: 6, window: 1m }`);
    expect(statusesOf(await send(3, {}, 'GET'))).toEqual([200, 200, 200]);
    expect(statusesOf(await send(3, {}, 'POST'))).toEqual([200, 200, 429]);
    // 5 of the 6 shared points are gone (3 GETs, 2 passing POSTs): the refused POST spent none of the rule after it.
    expect(statusesOf(await send(2, {}, 'GET'))).toEqual([200, 429]);
  });

  it('burst: limit + burst requests per window', async () => {
    await gateway('    rateLimit: { key: ip, limit: 2, burst: 2, window: 1m }');
    const responses = await send(5);
    expect(statusesOf(responses)).toEqual([200, 200, 200, 200, 429]);
    expect(responses[0]!.headers['ratelimit-limit']).toBe('2');
  });

  it('shadow mode never refuses, but counts (metric and access-line reason)', async () => {
    await gateway('    rateLimit: { key: ip, limit: 2, window: 1m, mode: shadow }');
    const hitsBefore = up.hits;
    expect(statusesOf(await send(5))).toEqual([200, 200, 200, 200, 200]);
    expect(up.hits - hitsBefore).toBe(5);
    expect(await metrics()).toMatch(/breakwater_rate_limited_total\{route="r",tier="",mode="shadow"\} 3/);
    expect(gw!.accessLines().map((l) => l.reason ?? '')).toEqual(
      expect.arrayContaining(['rate_limit_shadow', 'rate_limit_shadow', 'rate_limit_shadow']),
    );
  });

  it.each([
    ['draft', { 'ratelimit-policy': '"default";q=5;w=10', ratelimit: '"default";r=4;t=10' }],
    [
      'legacy',
      {
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '4',
        // The UTC epoch second at which the 10 s window ends.
        'x-ratelimit-reset': expect.stringMatching(/^\d{10}$/) as unknown as string,
      },
    ],
    ['none', {}],
  ])('headers: %s', async (mode, expected) => {
    await gateway(`    rateLimit: { key: ip, limit: 5, window: 10s, headers: ${mode} }`);
    const [response] = await send(1);
    const rateHeaders = Object.fromEntries(
      Object.entries(response!.headers).filter(([name]) => name.includes('ratelimit')),
    );
    expect(rateHeaders).toEqual(expected);
  });

  it('headers: legacy X-RateLimit-Reset is the epoch second the window ends (as express-rate-limit)', async () => {
    await gateway('    rateLimit: { key: ip, limit: 1, window: 10s, headers: legacy }');
    const before = Date.now();
    const [passed, refused] = await send(2);
    const after = Date.now();
    expect(refused!.status).toBe(429);
    for (const response of [passed!, refused!]) {
      const reset = Number(response.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 10);
      expect(reset).toBeLessThanOrEqual(Math.ceil(after / 1000) + 10);
    }
    // Retry-After stays the delay.
    expect(Number(refused!.headers['retry-after'])).toBeLessThanOrEqual(10);
  });

  it('sharedLimits: requests to one route spend the allowance of another route naming the same limit', async () => {
    gw = await startGateway(`server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  trustProxy: [127.0.0.1/32]
upstreams:
  api: { targets: ["${up.url}"] }
sharedLimits:
  global: { key: ip, limit: 4, window: 1m }
routes:
  - name: auth
    match: { pathPrefix: /auth }
    upstream: api
    rateLimit:
      - { key: ip, limit: 3, window: 1m }
      - { shared: global }
  - name: api
    match: { pathPrefix: /api }
    upstream: api
    rateLimit: { shared: global, methods: [GET, POST] }
`);
    const at = (path: string, ip: string, method = 'GET') =>
      get(`${gw!.url}${path}`, { 'x-forwarded-for': ip }, method);
    const hitsBefore = up.hits;
    // Three logins: auth's own limit is spent, and 3 of the 4 shared points.
    for (let i = 0; i < 3; i++) expect((await at('/auth/login', '198.51.100.1', 'POST')).status).toBe(200);
    const last = await at('/api/flights', '198.51.100.1');
    expect(last.status).toBe(200);
    expect(last.headers['ratelimit-remaining']).toBe('0');
    expect(last.headers['ratelimit-policy']).toBe('4;w=60');
    const refused = await at('/api/flights', '198.51.100.1');
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } });
    expect(refused.headers['retry-after']).toBe(refused.headers['ratelimit-reset']);
    // A method the api route does not count into the shared limit still passes there.
    expect((await at('/api/flights', '198.51.100.1', 'DELETE')).status).toBe(200);
    expect(up.hits - hitsBefore).toBe(5);
    // Another address has its own shared count.
    expect((await at('/api/flights', '198.51.100.2')).status).toBe(200);
    expect(await metrics()).toMatch(/breakwater_rate_limited_total\{route="api",tier="",mode="enforce"\} 1/);
  });

  it('tiers: limits by hashed API key; the 429 names the tier and the upgrade', async () => {
    await gateway(
      '    rateLimit: { key: consumer }',
      `consumers:
  header: x-api-key
  keys: { "sha256:${sha256('pro-key')}": pro }
  defaultTier: free
tiers:
  free: { limit: 1, window: 1m, upgrade: "https://example.com/pricing" }
  pro: { limit: 3, window: 1m }`,
    );
    const pro = await send(4, { 'x-api-key': 'pro-key' });
    expect(statusesOf(pro)).toEqual([200, 200, 200, 429]);
    expect(pro[3]!.json()).toMatchObject({ error: { code: 'RATE_LIMITED', tier: 'pro' } });
    expect('upgrade' in pro[3]!.json<{ error: object }>().error).toBe(false);
    const free = await send(2, { 'x-api-key': 'unknown-key' });
    expect(statusesOf(free)).toEqual([200, 429]);
    expect(free[1]!.json()).toMatchObject({
      error: { tier: 'free', upgrade: 'https://example.com/pricing', retryAfter: expect.any(Number) },
    });
    const text = await metrics();
    expect(text).toMatch(/breakwater_rate_limited_total\{route="r",tier="pro",mode="enforce"\} 1/);
    expect(text).toMatch(/breakwater_rate_limited_total\{route="r",tier="free",mode="enforce"\} 1/);
    // The raw key is never logged.
    expect(JSON.stringify(gw!.logs)).not.toContain('pro-key');
  });
});

describe('consumer limits with a tier table of their own, and the tier header', () => {
  const keys = `consumers:
  header: x-api-key
  keys:
    "sha256:${sha256('free-key')}": free
    "sha256:${sha256('pro-key')}": pro
  defaultTier: free
tiers:
  free: { limit: 4, window: 1m, upgrade: "Upgrade to Pro" }
  pro: { limit: 6, window: 1m }`;

  it('a per-minute and a per-hour limit per tier on one route; X-RateLimit-Tier on every answer', async () => {
    await gateway(
      `    rateLimit:
      - { key: consumer, headers: legacy }
      - key: consumer
        headers: legacy
        tiers:
          free: { limit: 2, window: 1h }
          pro: { limit: 5, window: 1h, upgrade: "Contact sales for more analyses" }`,
      keys,
    );
    const hitsBefore = up.hits;
    // free: the hourly 2 refuses before the per-minute 4.
    const free = await send(3, { 'x-api-key': 'free-key' });
    expect(statusesOf(free)).toEqual([200, 200, 429]);
    expect(free.map((r) => r.headers['x-ratelimit-tier'])).toEqual(['free', 'free', 'free']);
    expect(free[1]!.headers['x-ratelimit-limit']).toBe('2');
    expect(free[1]!.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(free[2]!.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(free[2]!.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: free[2]!.headers['x-request-id'],
        retryAfter,
        tier: 'free',
        upgrade: 'Upgrade to Pro',
      },
    });
    // pro: the hourly 5 refuses before the per-minute 6, with the table's own upgrade text.
    const pro = await send(6, { 'x-api-key': 'pro-key' });
    expect(statusesOf(pro)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(pro.every((r) => r.headers['x-ratelimit-tier'] === 'pro')).toBe(true);
    expect(pro[5]!.json()).toMatchObject({
      error: { tier: 'pro', upgrade: 'Contact sales for more analyses' },
    });
    expect(up.hits - hitsBefore).toBe(2 + 5);
    // No key: the default tier, counted per client address, and named in the header.
    const anonymous = await send(1, { 'x-forwarded-for': '203.0.113.7' });
    expect(anonymous[0]!.status).toBe(200);
    expect(anonymous[0]!.headers['x-ratelimit-tier']).toBe('free');
    expect(await metrics()).toMatch(/breakwater_rate_limited_total\{route="r",tier="pro",mode="enforce"\} 1/);
  });

  it('RateLimit-Tier with standard headers, none with headers: none; a tier left out of the table is an error', async () => {
    await gateway('    rateLimit: { key: consumer }', keys);
    const [standard] = await send(1, { 'x-api-key': 'pro-key' });
    expect(standard!.headers['ratelimit-tier']).toBe('pro');
    expect(standard!.headers['ratelimit-limit']).toBe('6');
    expect(standard!.headers['x-ratelimit-tier']).toBeUndefined();
    await gw!.close();
    await gateway('    rateLimit: { key: consumer, headers: none }', keys);
    const [silent] = await send(1, { 'x-api-key': 'pro-key' });
    expect(silent!.status).toBe(200);
    expect(Object.keys(silent!.headers).filter((name) => name.includes('ratelimit'))).toEqual([]);
    await gw!.close();
    gw = undefined;
    await expect(
      gateway('    rateLimit: { key: consumer, tiers: { free: { limit: 2, window: 1h } } }', keys),
    ).rejects.toThrow(/routes\[0\]\.rateLimit\.tiers: this tier table leaves out "pro"/);
  });
});

describe('slowDown through the gateway', () => {
  it('holds back requests past `after` by delay each, and counts them', async () => {
    await gateway('    slowDown: { key: ip, after: 2, delay: 100ms, maxDelay: 1s, window: 1m }');
    const started: number[] = [];
    const took: number[] = [];
    for (let i = 0; i < 3; i++) {
      started.push(performance.now());
      expect((await get(`${gw!.url}/x`)).status).toBe(200);
      took.push(performance.now() - started[i]!);
    }
    // The 3rd was held back ~100ms on its own; the first two were not (asserted by the counter).
    expect(took[2]).toBeGreaterThanOrEqual(95);
    expect(took[2]).toBeLessThan(300 + took[0]! * 3);
    expect(performance.now() - started[0]!).toBeGreaterThanOrEqual(95);
    const text = await metrics();
    expect(text).toMatch(/breakwater_slow_down_delayed_total\{route="r"\} 1/);
    const seconds = Number(/breakwater_slow_down_delay_seconds_total\{route="r"\} ([\d.]+)/.exec(text)?.[1]);
    expect(seconds).toBeCloseTo(0.1, 5);
  });

  it('runs after the rate limit: a refused request is never delayed', async () => {
    await gateway(`    rateLimit: { key: ip, limit: 1, window: 1m }
    slowDown: { key: ip, after: 0, delay: 100ms, window: 1m }`);
    expect(statusesOf(await send(3))).toEqual([200, 429, 429]);
    expect(await metrics()).toMatch(/breakwater_slow_down_delayed_total\{route="r"\} 1/);
  });
});

/**
 * Recipe 1, the payments API (issue 11): the stand-in app (test/backends/payments.ts, its
 * hardening deleted) behind the gateway started from config/examples/payments.yaml as shipped.
 * One `it` per item of the app's hand-built hardening, each on a fresh gateway and app. Limits
 * are proven at their real counts (1,000 requests, 500 before the slow-down), and per-IP
 * limits see distinct real clients: requests are sent from 127.0.0.x loopback addresses.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from 'undici';
import {
  createPaymentsDb,
  startPaymentsBackend,
  type PaymentsBackend,
  type PaymentsDb,
} from '../backends/payments';
import { waitFor } from '../helpers/wait';
import {
  clientAt,
  header,
  inParallel,
  send,
  startExample,
  type Answer,
  type ExampleGateway,
  type SendOptions,
} from './recipe-helpers';

// The limit tests send 1,000 requests: a few seconds, several times that on a loaded machine.
jest.setTimeout(60_000);

const MERCHANT_KEY = 'example-merchant-key-1';
const OTHER_MERCHANT_KEY = 'example-merchant-key-2';
const PARTNER_KEY = 'example-partner-key-1';
const ROUTE = 'payments-api';

interface Stack {
  readonly db: PaymentsDb;
  readonly blue: PaymentsBackend;
  readonly green: PaymentsBackend;
  readonly gw: ExampleGateway;
}

let stack: Stack | undefined;
const clients: Agent[] = [];
/** Stops a request loop a test left running (the blue-green test's, when it fails midway). */
let stopLoops: () => Promise<void> = async () => undefined;

/** Blue and green on one database, and the gateway from the shipped example in front. */
async function start(): Promise<Stack> {
  const db = createPaymentsDb();
  const blue = await startPaymentsBackend({ color: 'blue', db });
  const green = await startPaymentsBackend({ color: 'green', db });
  const gw = await startExample('payments', { BLUE_URL: blue.url, GREEN_URL: green.url });
  stack = { db, blue, green, gw };
  return stack;
}

/** A client sending from `address`, closed after the test. */
function from(address: string, connections?: number): Agent {
  const agent = clientAt(address, connections);
  clients.push(agent);
  return agent;
}

afterEach(async () => {
  await stopLoops();
  stopLoops = async () => undefined;
  await Promise.all(clients.splice(0).map((c) => c.close()));
  if (!stack) return;
  const { gw, blue, green } = stack;
  stack = undefined;
  await gw.close();
  await Promise.all([blue.close(), green.close()]);
});

const withKey = (key: string, options: SendOptions = {}): SendOptions => ({
  ...options,
  headers: { 'x-api-key': key, ...options.headers },
});

const payment = JSON.stringify({ amount: 1999, currency: 'EUR' });

describe('payments API behind breakwater (config/examples/payments.yaml)', () => {
  it('DB reconnect loop with backoff → reads and idempotent payments retried with backoff while the app reconnects', async () => {
    const { db, blue, gw } = await start();
    // Ordinary traffic first, so the breaker's window holds a normal error share.
    for (let i = 0; i < 10; i++)
      expect((await send(`${gw.url}/api/payments`, withKey(MERCHANT_KEY))).status).toBe(200);

    // The app loses its database for two queries (its own reconnect loop is at work): a read
    // is tried three times with backoff and the client sees one 200.
    const before = blue.apiHits();
    db.failNextQueries = 2;
    const read = await send(`${gw.url}/api/payments`, withKey(MERCHANT_KEY));
    expect(read.status).toBe(200);
    expect(blue.apiHits() - before).toBe(3);
    expect(await gw.metric('breakwater_retries_total', { route: ROUTE, reason: 'status_503' })).toBe(2);
    const line = gw.accessLines().find((l) => l.reqId === header(read, 'x-request-id'));
    expect(line).toMatchObject({ status: 200, attempts: 3 });

    // A payment is never replayed blindly: without an Idempotency-Key the app's 503 is final...
    db.failNextQueries = 1;
    const plain = await send(
      `${gw.url}/api/payments`,
      withKey(MERCHANT_KEY, { method: 'POST', body: payment }),
    );
    expect(plain.status).toBe(503);
    expect(plain.json()).toMatchObject({ error: 'Database unavailable' });
    // ...with one, it is retried like a read and created once.
    db.failNextQueries = 1;
    const keyed = await send(
      `${gw.url}/api/payments`,
      withKey(MERCHANT_KEY, { method: 'POST', body: payment, headers: { 'idempotency-key': 'order-42' } }),
    );
    expect(keyed.status).toBe(201);
    expect(db.payments.size).toBe(1);
  });

  it('1,000 requests per 15 min per IP, standard headers, JSON 429 RATE_LIMIT_EXCEEDED with retry-after', async () => {
    const { blue, gw } = await start();
    // 1,000 requests from one IP (a partner key, whose own tier allows 5,000): 500 at 50 at a
    // time, then 500 all at once, because past 500 the slow-down holds each for up to 2 s.
    const client = from('127.0.0.1', 500);
    const get = () => send(`${gw.url}/api/payments`, withKey(PARTNER_KEY, { via: client }));
    const answers = [...(await inParallel(500, 50, get)), ...(await inParallel(500, 500, get))];
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    for (const a of answers) {
      expect(header(a, 'ratelimit-limit')).toBe('1000');
      expect(header(a, 'ratelimit-policy')).toBe('1000;w=900');
      expect(Number(header(a, 'ratelimit-reset'))).toBeGreaterThan(0);
      expect(Number(header(a, 'ratelimit-reset'))).toBeLessThanOrEqual(900);
    }
    // Each request took one point: Remaining went 999 … 0, each value once.
    const remaining = answers.map((a) => Number(header(a, 'ratelimit-remaining'))).sort((x, y) => x - y);
    expect(remaining).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(blue.apiHits()).toBe(1000);

    const refused = await get();
    expect(refused.status).toBe(429);
    expect(header(refused, 'content-type')).toMatch(/^application\/json/);
    const body = refused.json<{
      error: { code: string; message: string; requestId: string; retryAfter: number };
    }>();
    // The hand-built limiter said RATE_LIMIT_EXCEEDED; breakwater's code is RATE_LIMITED.
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.requestId).toBe(header(refused, 'x-request-id'));
    expect(body.error.retryAfter).toBeGreaterThan(0);
    expect(body.error.retryAfter).toBeLessThanOrEqual(900);
    expect(header(refused, 'retry-after')).toBe(String(body.error.retryAfter));
    expect(header(refused, 'ratelimit-remaining')).toBe('0');
    expect(header(refused, 'ratelimit-limit')).toBe('1000');
    expect(blue.apiHits()).toBe(1000);
    expect(await gw.metric('breakwater_rate_limited_total', { route: ROUTE, mode: 'enforce' })).toBe(1);
    expect(gw.accessLines().at(-1)).toMatchObject({ status: 429, reason: 'rate_limited', route: ROUTE });

    // Another client IP has its own 1,000.
    const other = await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY, { via: from('127.0.0.2') }));
    expect(other.status).toBe(200);
    expect(header(other, 'ratelimit-remaining')).toBe('999');
  });

  it('express-slow-down: after 500 requests in 15 min, +500 ms per request', async () => {
    const { gw } = await start();
    const client = from('127.0.0.1');
    const get = () => send(`${gw.url}/api/payments`, withKey(PARTNER_KEY, { via: client }));
    const firstFiveHundred = await inParallel(500, 50, get);
    expect(firstFiveHundred.every((a) => a.status === 200)).toBe(true);
    expect(await gw.metric('breakwater_slow_down_delayed_total', { route: ROUTE })).toBe(0);

    // Request 501 waits 500 ms; 502 to 506 (sent together) 1 s, 1.5 s, then the 2 s cap.
    const r501 = await get();
    expect(r501.status).toBe(200);
    expect(r501.ms).toBeGreaterThanOrEqual(495);
    expect(await gw.metric('breakwater_slow_down_delay_seconds_total', { route: ROUTE })).toBe(0.5);
    const next = await inParallel(5, 5, get);
    expect(next.every((a) => a.status === 200)).toBe(true);
    // Whichever request got which delay, the k-th fastest waited at least the k-th shortest delay.
    const sorted = next.map((a) => a.ms).sort((x, y) => x - y);
    [1000, 1500, 2000, 2000, 2000].forEach((ms, k) => expect(sorted[k]).toBeGreaterThanOrEqual(ms - 5));
    expect(await gw.metric('breakwater_slow_down_delayed_total', { route: ROUTE })).toBe(6);
    const seconds = await gw.metric('breakwater_slow_down_delay_seconds_total', { route: ROUTE });
    expect(seconds).toBeCloseTo(0.5 + 1 + 1.5 + 2 + 2 + 2, 3);
    // Another IP is not slowed.
    const fresh = await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY, { via: from('127.0.0.2') }));
    expect(fresh.status).toBe(200);
    expect(await gw.metric('breakwater_slow_down_delayed_total', { route: ROUTE })).toBe(6);
  });

  it('circuit breaker: 5 failures, then open for 60 s', async () => {
    const { blue, gw } = await start();
    blue.switches.createError = true;
    const create = () =>
      send(`${gw.url}/api/payments`, withKey(PARTNER_KEY, { method: 'POST', body: payment }));
    for (let i = 0; i < 5; i++) expect((await create()).status).toBe(500);
    expect(blue.apiHits()).toBe(5);

    // The sixth request, and reads on the same route, are answered without touching the app.
    const refused = await create();
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'CIRCUIT_OPEN' } });
    const retryAfter = Number(header(refused, 'retry-after'));
    expect(retryAfter).toBeGreaterThan(45);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY))).status).toBe(503);
    expect(blue.apiHits()).toBe(5);
    expect(await gw.metric('breakwater_circuit_state', { upstream: 'payments', route: ROUTE })).toBe(2);
    expect(gw.linesWith('circuit breaker opened')).toEqual([
      expect.objectContaining({ level: 'warn', upstream: 'payments', route: ROUTE }),
    ]);
    const health = (await gw.admin('/health')).json<{
      upstreams: Record<string, { breakers: Record<string, string> }>;
    }>();
    expect(health.upstreams.payments!.breakers[ROUTE]).toBe('open');

    // The operator fixes the app and closes the breaker by hand instead of waiting 60 s.
    blue.switches.createError = false;
    expect((await gw.admin('/admin/breakers/payments/reset', 'POST')).status).toBe(200);
    expect((await create()).status).toBe(201);
    expect(blue.apiHits()).toBe(6);
  });

  it('/health/detailed with per-dependency status and 503 when degraded', async () => {
    const { db, blue, green, gw } = await start();
    type Health = {
      status: string;
      upstreams: Record<
        string,
        {
          status: string;
          targets: Array<{ url: string; healthy: boolean; lastCheck: string | null; reason: string | null }>;
        }
      >;
    };
    const health = async () => {
      const answer = await gw.admin('/health');
      return { status: answer.status, body: answer.json<Health>() };
    };
    const targets = async () => (await health()).body.upstreams.payments!.targets;
    expect((await health()).status).toBe(200);
    expect((await gw.admin('/health/ready')).status).toBe(200);

    // The database goes away: /health/detailed says degraded with a 503 on both instances, two
    // probes in a row take them out, and the gateway's health turns 503.
    db.down = true;
    await waitFor(async () => (await targets()).every((t) => !t.healthy), 'both targets out', 15_000);
    // The app's own dependency check was probed on both instances.
    expect(blue.seen.filter((r) => r.url === '/health/detailed').length).toBeGreaterThanOrEqual(2);
    expect(green.seen.filter((r) => r.url === '/health/detailed').length).toBeGreaterThanOrEqual(2);
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('down');
    expect(down.body.upstreams.payments!.status).toBe('down');
    for (const t of down.body.upstreams.payments!.targets) expect(t.reason).toBe('health check: status 503');
    const ready = await gw.admin('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({
      status: 'not_ready',
      reasons: ['upstream payments has no healthy target'],
    });
    // Clients get a fast 503 from the gateway; the app is not called.
    const hits = blue.apiHits() + green.apiHits();
    const refused = await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY));
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'NO_HEALTHY_UPSTREAM' } });
    expect(blue.apiHits() + green.apiHits()).toBe(hits);
    expect(
      gw.logs.filter((l) => l.msg === 'health check: target unhealthy' && l.level === 'warn'),
    ).toHaveLength(2);

    // The database is back: two passing probes each, and everything is green again.
    db.down = false;
    await waitFor(async () => (await targets()).every((t) => t.healthy), 'both targets back', 15_000);
    expect((await health()).status).toBe(200);
    expect((await gw.admin('/health/ready')).status).toBe(200);
    expect((await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY))).status).toBe(200);
  });

  it('per-API-key limits', async () => {
    const { gw } = await start();
    const get = (options: SendOptions) => send(`${gw.url}/api/payments`, options);
    // A merchant key: 100 a minute, whatever the IP limit says.
    const answers = await inParallel(100, 20, () => get(withKey(MERCHANT_KEY)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.every((a) => header(a, 'ratelimit-limit') === '100')).toBe(true);
    const refused = await get(withKey(MERCHANT_KEY));
    expect(refused.status).toBe(429);
    const body = refused.json<{ error: { code: string; tier: string; retryAfter: number } }>();
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', tier: 'merchant' });
    expect(body.error.retryAfter).toBeLessThanOrEqual(60);
    expect(header(refused, 'ratelimit-policy')).toBe('100;w=60');
    // The raw key is never logged.
    expect(JSON.stringify(gw.logs)).not.toContain(MERCHANT_KEY);

    // Another merchant key from the same IP has its own count; so has the partner.
    expect((await get(withKey(OTHER_MERCHANT_KEY))).status).toBe(200);
    expect(header(await get(withKey(PARTNER_KEY)), 'ratelimit-limit')).toBe('1000'); // the IP limit is the nearer one

    // No key or an unknown one: 100 per 15 min per client IP.
    const keyless = from('127.0.0.3');
    const guesses = await inParallel(100, 20, (i) => get(withKey(`guess-${i}`, { via: keyless })));
    expect(guesses.every((a) => a.status === 200)).toBe(true);
    const noKey = await get({ via: keyless });
    expect(noKey.status).toBe(429);
    expect(noKey.json()).toMatchObject({ error: { tier: 'keyless' } });
    expect(await gw.metric('breakwater_rate_limited_total', { route: ROUTE, tier: 'merchant' })).toBe(1);
    expect(await gw.metric('breakwater_rate_limited_total', { route: ROUTE, tier: 'keyless' })).toBe(1);
  });

  it('suspicion of a key used from many IPs', async () => {
    const { blue, gw } = await start();
    const get = (address: string, key = OTHER_MERCHANT_KEY) =>
      send(`${gw.url}/api/payments`, withKey(key, { via: from(address) }));
    const flagged = () => gw.linesWith('consumer key used from many IPs');
    const suspicious = () => gw.metric('breakwater_consumer_key_suspicious_total', { tier: 'merchant' });
    // A shop's integration on ten servers: nothing to report, however often they call.
    for (let i = 1; i <= 10; i++) expect((await get(`127.0.2.${i}`)).status).toBe(200);
    expect((await get('127.0.2.1')).status).toBe(200);
    expect(flagged()).toEqual([]);
    expect(await suspicious()).toBe(0);

    // An eleventh address within the hour: the key has leaked or is shared. One warn line with
    // the key's fingerprint (never the key) and one count; the request is still served (warn).
    expect((await get('127.0.2.11')).status).toBe(200);
    expect((await get('127.0.2.12')).status).toBe(200);
    expect(flagged()).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'consumer_key_shared',
        route: ROUTE,
        tier: 'merchant',
        key: createHash('sha256').update(OTHER_MERCHANT_KEY).digest('hex').slice(0, 12),
        ips: 11,
        limit: 10,
        window: '1h',
        action: 'warn',
        clientIp: '127.0.2.11',
      }),
    ]);
    expect(await suspicious()).toBe(1);
    expect(blue.apiHits()).toBe(13);
    expect(JSON.stringify(gw.logs)).not.toContain(OTHER_MERCHANT_KEY);
    // Another key used from two of the same addresses is not affected.
    expect((await get('127.0.2.11', MERCHANT_KEY)).status).toBe(200);
    expect((await get('127.0.2.12', MERCHANT_KEY)).status).toBe(200);
    expect(flagged()).toHaveLength(1);
  });

  it('error counting with an alert after 10 similar errors', async () => {
    const { blue, gw } = await start();
    // The same bug ten times, among normal traffic (a third of the requests: the breaker, which
    // wants more than half failing, stays closed; this is a recurring error, not an outage).
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 2; j++)
        expect((await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY))).status).toBe(200);
      blue.switches.createError = true;
      const failed = await send(
        `${gw.url}/api/payments`,
        withKey(PARTNER_KEY, { method: 'POST', body: payment }),
      );
      blue.switches.createError = false;
      expect(failed.status).toBe(500);
    }
    const labels = { route: ROUTE, method: 'POST', code: '500' };
    expect(await gw.metric('breakwater_requests_total', labels)).toBe(10);
    expect(await gw.metric('breakwater_requests_total', { route: ROUTE, method: 'GET', code: '200' })).toBe(
      20,
    );
    expect(await gw.metric('breakwater_circuit_state', { upstream: 'payments', route: ROUTE })).toBe(0);
    const lines = gw.accessLines().filter((l) => l.status === 500);
    expect(lines).toHaveLength(10);
    for (const l of lines)
      expect(l).toMatchObject({ level: 'warn', route: ROUTE, method: 'POST', upstream: 'payments' });

    // deploy/prometheus/alerts.yml turns that counter into the alert (its promtool unit tests
    // are in alerts.test.yml): ten of one 5xx code on one route within 5 minutes.
    const rules = readFileSync(join(__dirname, '..', '..', 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
    const rule = /- alert: BreakwaterRepeatedErrors\n([\s\S]*?)\n {6}- alert:/.exec(rules)?.[1];
    expect(rule).toBeDefined();
    expect(rule).toMatch(/breakwater_requests_total\{code=~"5\.\."\}/);
    expect(rule).toMatch(/by \([^)]*\broute\b[^)]*\bcode\b[^)]*\)/);
    expect(rule).toMatch(/\[5m\]/);
    expect(rule).toMatch(/>= 10/);
  });

  it('a dashboard', async () => {
    const { gw } = await start();
    for (let i = 0; i < 5; i++) await send(`${gw.url}/api/payments`, withKey(PARTNER_KEY));
    const page = await send(`${gw.adminUrl}/`);
    expect(page.status).toBe(200);
    expect(header(page, 'content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('/admin/dashboard.json');

    // The page's data needs the admin token.
    expect((await send(`${gw.adminUrl}/admin/dashboard.json`)).status).toBe(401);
    const data = await gw.admin('/admin/dashboard.json');
    expect(data.status).toBe(200);
    const json = data.json<{
      health: {
        upstreams: Record<string, { breakers: Record<string, string>; targets: Array<{ url: string }> }>;
      };
      routes: { routes: Array<{ name: string; upstream: string; chain: string[] }> };
      stats: { routes: Array<{ route: string }> };
    }>();
    expect(json.health.upstreams.payments!.breakers[ROUTE]).toBe('closed');
    expect(json.health.upstreams.payments!.targets).toHaveLength(2);
    expect(JSON.stringify(json.routes)).toContain(ROUTE);
    expect(JSON.stringify(json.routes)).toContain('circuit-breaker');
    expect(JSON.stringify(json.stats)).toContain(ROUTE);
  });

  it('blue-green cut-over after a health check', async () => {
    const { blue, green, gw } = await start();
    type Targets = Array<{ url: string; healthy: boolean; lastCheck: string | null; draining: boolean }>;
    const targets = async () =>
      (await gw.admin('/health')).json<{ upstreams: Record<string, { targets: Targets }> }>().upstreams
        .payments!.targets;
    // Green is listed with weight 0: probed, no traffic. Its health check has to pass first.
    await waitFor(
      async () => (await targets()).some((t) => t.url === green.url && t.lastCheck !== null && t.healthy),
      "green's health check",
      15_000,
    );

    // Clients keep paying throughout: a loop of reads from ten client addresses (the partner's
    // servers: ten, so that the shared-key check has nothing to say).
    const agents = Array.from({ length: 10 }, (_, i) => from(`127.0.1.${i + 1}`, 4));
    const results: Array<{ startedAt: number; answer: Answer | Error }> = [];
    let running = true;
    let sent = 0;
    const loop = async () => {
      while (running) {
        const startedAt = performance.now();
        const answer = await send(
          `${gw.url}/api/payments`,
          withKey(PARTNER_KEY, { via: agents[sent++ % 10] }),
        ).catch((err: Error) => err);
        results.push({ startedAt, answer });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    stopLoops = async () => {
      running = false;
      await Promise.all(loops);
    };
    const colours = (since: number) =>
      results
        .filter((r) => r.startedAt >= since)
        .map((r) => (r.answer instanceof Error ? r.answer.message : header(r.answer, 'x-app-color')));
    await waitFor(() => results.length >= 20, 'traffic on blue', 15_000);
    expect(new Set(colours(0))).toEqual(new Set(['blue']));

    // Step 3: green gets weight 1 in the file; the watcher reloads it. Both colours serve.
    gw.edit((text) => text.replace('weight: 0 # green', 'weight: 1 # green'));
    await waitFor(() => gw.linesWith('config reloaded').length === 1, 'the first reload', 15_000);
    const reloaded = performance.now();
    await waitFor(() => colours(reloaded).includes('green'), 'green taking traffic', 15_000);

    // Step 4: drain blue through the admin API: every new request goes to green.
    const drained = await gw.admin(
      `/admin/upstreams/payments/targets/${encodeURIComponent(blue.url)}/drain`,
      'POST',
    );
    expect(drained.status).toBe(200);
    const drainedAt = performance.now();
    await waitFor(() => gw.linesWith('target drain finished').length === 1, 'the drain to finish', 15_000);
    const blueHits = blue.apiHits();
    await waitFor(() => colours(drainedAt).length >= 40, 'traffic after the drain', 15_000);
    expect(new Set(colours(drainedAt))).toEqual(new Set(['green']));

    // Step 5: the weights made permanent in the file; blue stays drained across the reload.
    gw.edit((text) => text.replace('weight: 1 # blue', 'weight: 0 # blue'));
    await waitFor(() => gw.linesWith('config reloaded').length === 2, 'the second reload', 15_000);
    const final = performance.now();
    await waitFor(() => colours(final).length >= 20, 'traffic after the second reload', 15_000);
    await stopLoops();
    expect(new Set(colours(drainedAt))).toEqual(new Set(['green']));
    expect(blue.apiHits()).toBe(blueHits);
    expect((await targets()).find((t) => t.url === blue.url)).toMatchObject({ draining: true });

    // Zero failed requests through the whole cut-over.
    const failed = results.filter((r) => r.answer instanceof Error || r.answer.status !== 200);
    expect(failed.map((r) => (r.answer instanceof Error ? r.answer.message : r.answer.status))).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
    expect(green.apiHits()).toBeGreaterThan(60);
    expect(gw.linesWith('consumer key used from many IPs')).toEqual([]);
  });
});

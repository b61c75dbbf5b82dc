/**
 * Recipe 3: the messaging backend (Express + RabbitMQ) behind breakwater, configured by the
 * shipped config/examples/messaging.yaml (only addresses, the admin token and the timings a
 * test cannot wait for come from the environment). One `it` per item of hand-built hardening
 * the app no longer has (docs/recipes/messaging.md), each proven against the stand-in app
 * (test/backends/messaging.ts) and the real gateway, in process or as the built CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load';
import { readConfigFile } from '../../src/control/reloader';
import { Gateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { startMessagingBackend, type MessagingBackend } from '../backends/messaging';
import { runCli, startCli, writeTemp } from '../helpers/cli';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/wait';
import { call, seriesValue } from './recipe-helpers';

const FILE = join(__dirname, '..', '..', 'config', 'examples', 'messaging.yaml');
const EXAMPLE = readFileSync(FILE, 'utf8');
const TOKEN = 'recipe-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };

function envFor(app: MessagingBackend, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    BREAKWATER_LISTEN: '127.0.0.1:0',
    BREAKWATER_ADMIN_LISTEN: '127.0.0.1:0',
    BREAKWATER_ADMIN_TOKEN: TOKEN,
    MESSAGING_URL: app.url,
    // The test client stands in for the load balancer (so it may say https and name clients).
    TRUSTED_PROXY: '127.0.0.1',
    // Closing a test gateway need not wait for a load balancer.
    DRAIN_DELAY: '0s',
    ...extra,
  };
}

describe('recipe: messaging backend (Express + RabbitMQ) behind config/examples/messaging.yaml', () => {
  let app: MessagingBackend;
  let gw: TestGateway | undefined;

  beforeEach(async () => {
    app = await startMessagingBackend();
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await app.close();
  });

  const boot = async (extra: NodeJS.ProcessEnv = {}) => {
    gw = await startGateway(EXAMPLE, envFor(app, extra));
    return gw;
  };
  const admin = (path: string) => call(`${gw!.adminUrl}${path}`, { headers: auth });

  it('JSON logs: one access line per request (reqId, method, path without query, route, upstream, target, status, duration_ms)', async () => {
    await boot();
    const res = await call(`${gw!.url}/api/messages?queue=orders&session=secret-session`, {
      headers: { 'x-request-id': 'trace-7f3a' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('trace-7f3a');
    // The app got the same id, so its own lines join up with the gateway's.
    expect(app.headers.at(-1)!['x-request-id']).toBe('trace-7f3a');
    await waitFor(() => gw!.accessLines().length === 1, 'the access line');
    const line = gw!.accessLines()[0]!;
    expect(line).toMatchObject({
      // warn only if a loaded machine held this request past slowRequest (1 s)
      level: line.slow === true ? 'warn' : 'info',
      reqId: 'trace-7f3a',
      method: 'GET',
      path: '/api/messages',
      route: 'api',
      upstream: 'messaging',
      target: app.url,
      status: 200,
      attempts: 1,
    });
    expect(typeof line.time).toBe('string');
    expect(line.duration_ms).toEqual(expect.any(Number));
    expect(line.bytes).toBe(Buffer.byteLength(res.text));
    expect(JSON.stringify(line)).not.toContain('secret-session');
  });

  it('100 requests per 15 min per IP with Retry-After, and a stricter 5 per 15 min on the sensitive endpoints', async () => {
    await boot();
    for (let i = 1; i <= 100; i++) {
      const res = await call(`${gw!.url}/api/messages`);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('100');
      expect(res.headers['ratelimit-remaining']).toBe(String(100 - i));
      expect(res.headers['ratelimit-policy']).toBe('100;w=900');
    }
    const refused = await call(`${gw!.url}/api/messages`);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(refused.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: refused.headers['x-request-id'],
        retryAfter,
      },
    });
    expect(app.hitsOf('GET /api/messages')).toBe(100);
    // One counter for the whole API, as the app.use()d limiter had: the other routes are spent too.
    expect((await call(`${gw!.url}/api/auth/login`, { method: 'POST', body: '{}' })).status).toBe(429);
    expect((await call(`${gw!.url}/api/queues`)).status).toBe(429);
    expect(app.hitsOf('POST /api/auth/login') + app.hitsOf('GET /api/queues')).toBe(0);
    // Per IP: another client behind the load balancer still gets through.
    const other = await call(`${gw!.url}/api/messages`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(other.status).toBe(200);

    // The sensitive endpoints: 5 per 15 min per IP, on top of the general limit.
    const client = { 'x-forwarded-for': '198.51.100.9' };
    for (let i = 1; i <= 5; i++) {
      const res = await call(`${gw!.url}/api/auth/login`, { method: 'POST', body: '{}', headers: client });
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(res.headers['ratelimit-remaining']).toBe(String(5 - i));
    }
    const reset = await call(`${gw!.url}/api/auth/reset-password`, {
      method: 'POST',
      body: '{}',
      headers: client,
    });
    expect(reset.status).toBe(429);
    expect(Number(reset.headers['retry-after'])).toBeGreaterThan(800);
    expect(reset.json<{ error: { code: string } }>().error.code).toBe('RATE_LIMITED');
    expect(app.hitsOf('POST /api/auth/login') + app.hitsOf('POST /api/auth/reset-password')).toBe(5);
    // Those six requests were counted by the general limit too (the app's order: general first).
    const after = await call(`${gw!.url}/api/queues`, { headers: client });
    expect(after.status).toBe(200);
    expect(after.headers['ratelimit-remaining']).toBe(String(100 - 7));
  });

  it('security headers (helmet): nosniff, X-Frame-Options, Referrer-Policy, HSTS on https, no X-Powered-By', async () => {
    await boot();
    const plain = await call(`${gw!.url}/api/queues`);
    expect(plain.status).toBe(200);
    expect(plain.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(plain.headers['x-powered-by']).toBeUndefined();
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    // Behind the TLS-terminating load balancer.
    const https = await call(`${gw!.url}/api/queues`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    // The gateway's own answers carry them too.
    const notFound = await call(`${gw!.url}/nowhere`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers['x-content-type-options']).toBe('nosniff');
  });

  it('request size limits: a body over 100 KB gets 413 BODY_TOO_LARGE and never reaches the app', async () => {
    await boot();
    const big = Buffer.alloc(150 * 1024, 'a');
    const declared = await call(`${gw!.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(declared.json<{ error: { code: string } }>().error.code).toBe('BODY_TOO_LARGE');
    // A chunked body (no Content-Length) is cut off as it crosses the limit.
    const chunked = await request(`${gw!.url}/api/messages`, {
      method: 'POST',
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 15; i++) yield Buffer.alloc(10 * 1024, 'b');
        })(),
      ),
    }).then(
      async (res) => ({ status: res.statusCode, text: await res.body.text() }),
      (err: Error) => ({ status: 0, text: err.message }),
    );
    // requestBuffer = maxBodySize: the whole body is read before anything goes upstream.
    if (chunked.status !== 0) expect(chunked.status).toBe(413);
    expect(app.hitsOf('POST /api/messages')).toBe(0);
    // Under the limit it goes through.
    const small = await call(`${gw!.url}/api/messages`, {
      method: 'POST',
      body: JSON.stringify({ queue: 'orders', payload: 'x'.repeat(50 * 1024) }),
    });
    expect(small.status).toBe(202);
    expect(app.hitsOf('POST /api/messages')).toBe(1);
  });

  it('production-safe errors: the broker error and its stack never reach the client (errors: mask)', async () => {
    await boot();
    app.switches.brokerDown = true;
    const res = await call(`${gw!.url}/api/messages`, { method: 'POST', body: '{"queue":"orders"}' });
    expect(res.status).toBe(500);
    expect(app.hitsOf('POST /api/messages')).toBe(1);
    expect(res.json()).toEqual({
      error: { code: 'UPSTREAM_ERROR', message: expect.any(String), requestId: res.headers['x-request-id'] },
    });
    expect(res.text).not.toMatch(/stack|amqplib|Channel closed|\/app\/src/);
    expect(res.headers['x-powered-by']).toBeUndefined();
    await waitFor(() => gw!.accessLines().length === 1, 'the access line');
    expect(gw!.accessLines()[0]).toMatchObject({ status: 500, reason: 'error_masked' });
    const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
    expect(seriesValue(metrics, 'breakwater_errors_masked_total', 'route="api"')).toBe(1);
    // Answers that are not 5xx pass untouched.
    const notFound = await call(`${gw!.url}/api/unknown`);
    expect(notFound.status).toBe(404);
    expect(notFound.json()).toEqual({ error: 'Cannot GET /api/unknown' });
  });

  it('slow-request logging above 1 s: the access line at warn with slow: true, counted in /admin/stats and breakwater_slow_requests_total', async () => {
    await boot();
    app.switches.exportMs = 1300;
    for (let i = 0; i < 5; i++) expect((await call(`${gw!.url}/api/queues`)).status).toBe(200);
    expect((await call(`${gw!.url}/api/reports/export`)).status).toBe(200);
    await waitFor(() => gw!.accessLines().length === 6, 'six access lines');
    const lines = gw!.accessLines();
    const slowLine = lines[5]!;
    expect(slowLine).toMatchObject({ level: 'warn', path: '/api/reports/export', slow: true, status: 200 });
    expect(slowLine.duration_ms as number).toBeGreaterThanOrEqual(1000);
    // The quick ones are plain info lines (one that a loaded machine held past 1 s would be flagged, rightly).
    for (const line of lines.slice(0, 5)) {
      const over = (line.duration_ms as number) >= 1000;
      expect(line).toMatchObject({ path: '/api/queues', level: over ? 'warn' : 'info' });
      expect(line.slow).toBe(over ? true : undefined);
    }
    const slowCount = lines.filter((l) => l.slow === true).length;
    const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
    expect(seriesValue(metrics, 'breakwater_slow_requests_total', 'route="api"')).toBe(slowCount);
    const stats = (await admin('/admin/stats')).json<{
      routes: { route: string; windows: Record<string, { requests: number; slow: number }> }[];
    }>();
    const api = stats.routes.find((r) => r.route === 'api')!;
    expect(api.windows['1m']).toMatchObject({ requests: 6, slow: slowCount });
    expect(api.windows['15m']).toMatchObject({ requests: 6, slow: slowCount });
  });

  it('graceful shutdown with a 30 s cap: SIGTERM lets in-flight requests finish (exit 0); past the cap they are cut off (exit 1)', async () => {
    const shipped = loadConfig(FILE, {});
    expect(shipped.server.shutdownTimeoutMs).toBe(30_000);
    expect(shipped.server.drainDelayMs).toBe(5_000);

    // The built CLI, on the shipped file, with the cap and the delay shortened by the environment.
    app.switches.exportMs = 2000;
    const env = envFor(app, { SHUTDOWN_TIMEOUT: '10s', DRAIN_DELAY: '0s' });
    const gwProcess = await startCli(FILE, env);
    const inFlight = call(`http://127.0.0.1:${gwProcess.proxyPort}/api/reports/export`);
    await waitFor(() => app.hitsOf('GET /api/reports/export') === 1, 'the export to reach the app');
    gwProcess.child.kill('SIGTERM');
    await waitFor(
      async () => (await call(`http://127.0.0.1:${gwProcess.adminPort}/health/ready`)).status === 503,
      'readiness 503 while draining',
    );
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.json()).toMatchObject({ report: 'queues' });
    expect(await gwProcess.exited).toBe(0);

    // The cap: a request longer than shutdownTimeout is cut off and the exit code says so.
    app.switches.exportMs = 10_000;
    const capped = await startCli(FILE, envFor(app, { SHUTDOWN_TIMEOUT: '300ms', DRAIN_DELAY: '0s' }));
    const cut = call(`http://127.0.0.1:${capped.proxyPort}/api/reports/export`).catch((err: Error) => err);
    await waitFor(() => app.hitsOf('GET /api/reports/export') === 2, 'the second export to reach the app');
    const started = Date.now();
    capped.child.kill('SIGTERM');
    expect(await capped.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    await cut;
    const cutLine = () =>
      capped.lines.find((l) => l.path === '/api/reports/export' && typeof l.status === 'number');
    await waitFor(() => cutLine() !== undefined, 'the access line of the cut-off request');
    expect(cutLine()).toMatchObject({ status: 503, reason: 'shutdown_timeout' });
  });

  it('/health/live, /health/ready and /health/detailed: per-dependency status, 503 while the broker is down', async () => {
    await boot({ HEALTH_INTERVAL: '200ms' });
    const base = gw!.adminUrl;
    await waitFor(
      async () =>
        (await call(`${base}/health`)).json<{
          upstreams: { messaging: { targets: { lastCheck: string | null }[] } };
        }>().upstreams.messaging.targets[0]!.lastCheck !== null,
      'the first probe',
    );
    expect((await call(`${base}/health/live`)).status).toBe(200);
    expect((await call(`${base}/health/ready`)).status).toBe(200);
    const healthy = await call(`${base}/health`);
    expect(healthy.status).toBe(200);
    expect(healthy.json()).toMatchObject({
      status: 'ok',
      upstreams: { messaging: { status: 'ok', targets: [{ url: app.url, healthy: true }] } },
    });

    app.switches.brokerDown = true;
    await waitFor(async () => (await call(`${base}/health/ready`)).status === 503, 'readiness 503', 10_000);
    const ready = (await call(`${base}/health/ready`)).json<{ status: string; reasons: string[] }>();
    expect(ready.status).toBe('not_ready');
    expect(ready.reasons.join(' ')).toContain('messaging');
    const detailed = await call(`${base}/health`);
    expect(detailed.status).toBe(503);
    expect(detailed.json()).toMatchObject({
      status: 'down',
      upstreams: {
        messaging: { targets: [{ url: app.url, healthy: false, reason: 'health check: status 503' }] },
      },
    });
    // Clients get a fast 503 with Retry-After instead of a publish that fails inside the app.
    const publishesBefore = app.hitsOf('POST /api/messages');
    const refused = await call(`${gw!.url}/api/messages`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('NO_HEALTHY_UPSTREAM');
    expect(app.hitsOf('POST /api/messages')).toBe(publishesBefore);

    app.switches.brokerDown = false;
    await waitFor(async () => (await call(`${base}/health/ready`)).status === 200, 'ready again', 10_000);
    expect((await call(`${gw!.url}/api/messages`, { method: 'POST', body: '{}' })).status).toBe(202);
  });

  it('config validated at start: breakwater validate, and a broken file refuses to start naming file:line:col', () => {
    expect(runCli(['validate', FILE], {})).toMatchObject({ code: 0 });
    // Two mistakes: a bad value and a misspelt key. Both are named, with their line and column.
    const lines = EXAMPLE.split('\n');
    const slow = lines.indexOf('  slowRequest: 1s');
    const memory = lines.indexOf('  memoryWarning: 0.9');
    expect(slow).toBeGreaterThan(0);
    expect(memory).toBeGreaterThan(0);
    lines[slow] = '  slowRequest: one second';
    lines[memory] = '  memoryWarnng: 0.9';
    const broken = writeTemp('messaging.yaml', lines.join('\n'));
    const badValue = `messaging.yaml:${slow + 1}:16: server.slowRequest: expected a duration`;
    const badKey = `messaging.yaml:${memory + 1}:3: server.memoryWarnng: unknown key "memoryWarnng" (did you mean "memoryWarning"?)`;
    const validate = runCli(['validate', broken], {});
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(badValue);
    expect(validate.stderr).toContain(badKey);
    const start = runCli(['--config', broken], {
      BREAKWATER_LISTEN: '127.0.0.1:0',
      BREAKWATER_ADMIN_LISTEN: '127.0.0.1:0',
    });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(badValue);
    expect(start.stderr).toContain(badKey);
  });

  it('per-route timing: p50/p95/p99 per route in /admin/stats and breakwater_request_duration_seconds{route}', async () => {
    await boot();
    for (let i = 0; i < 20; i++) expect((await call(`${gw!.url}/api/queues`)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await call(`${gw!.url}/api/auth/login`, { method: 'POST', body: '{}' })).status).toBe(200);
    const stats = (await admin('/admin/stats')).json<{
      routes: {
        route: string;
        windows: Record<string, { requests: number; p50Ms: number; p95Ms: number; p99Ms: number }>;
      }[];
    }>();
    const byRoute = Object.fromEntries(stats.routes.map((r) => [r.route, r.windows['1m']!]));
    expect(byRoute.api).toMatchObject({ requests: 20 });
    expect(byRoute.auth).toMatchObject({ requests: 3 });
    for (const window of [byRoute.api!, byRoute.auth!]) {
      expect(window.p50Ms).toBeGreaterThan(0);
      expect(window.p95Ms).toBeGreaterThanOrEqual(window.p50Ms);
      expect(window.p99Ms).toBeGreaterThanOrEqual(window.p95Ms);
    }
    const metrics = (await call(`${gw!.adminUrl}/metrics`)).text;
    expect(seriesValue(metrics, 'breakwater_request_duration_seconds_count', 'route="api"')).toBe(20);
    expect(seriesValue(metrics, 'breakwater_request_duration_seconds_count', 'route="auth"')).toBe(3);
    expect(metrics).toMatch(/^breakwater_request_duration_seconds_bucket\{[^}]*route="api"[^}]*\} 20$/m);
  });

  it('memory warnings at 90%: breakwater_memory_usage_ratio, a warn line when it crosses, info when back', async () => {
    // The shipped 0.9: a test process is normally far below it, so the gauge is there and nothing
    // is logged (a warn line exactly when the ratio is at or above 0.9, however this machine is set up).
    await boot();
    const ratio = seriesValue((await call(`${gw!.adminUrl}/metrics`)).text, 'breakwater_memory_usage_ratio')!;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);
    const warned = gw!.logs.filter((l) => l.msg === 'memory usage high');
    expect(warned).toHaveLength(ratio >= 0.9 ? 1 : 0);
    await gw!.close();
    gw = undefined;

    // The same file with a threshold the process is already above, then the shipped file reloaded.
    const file = writeTemp('messaging.yaml', EXAMPLE.replace('memoryWarning: 0.9', 'memoryWarning: 0.001'));
    const env = envFor(app);
    const logs: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n'))
          if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const loaded = readConfigFile(file, env);
    const gateway = await Gateway.start(loaded.config, {
      logger: createLogger({ stream, level: 'info' }),
      reload: { file, env, hash: loaded.hash, watch: false },
    });
    try {
      const line = (msg: string) => logs.find((l) => l.msg === msg);
      await waitFor(() => line('memory usage high') !== undefined, 'the memory warning');
      expect(line('memory usage high')).toMatchObject({ level: 'warn', threshold: 0.001 });
      expect(line('memory usage high')!.ratio as number).toBeGreaterThanOrEqual(0.001);
      writeFileSync(file, EXAMPLE);
      const adminUrl = `http://127.0.0.1:${gateway.adminAddress!.port}`;
      expect((await call(`${adminUrl}/admin/reload`, { method: 'POST', headers: auth })).status).toBe(200);
      await waitFor(() => line('memory usage back to normal') !== undefined, 'the all-clear');
      expect(line('memory usage back to normal')).toMatchObject({ level: 'info', threshold: 0.9 });
    } finally {
      await gateway.drain();
    }
  });
});

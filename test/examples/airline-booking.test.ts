/**
 * Recipe 2, the airline booking API (issue 11): the stand-in app (test/backends/
 * airline-booking.ts, its hardening deleted) behind the gateway started from
 * config/examples/airline-booking.yaml as shipped. One `it` per item of the app's hand-built
 * hardening, each on a fresh gateway and app. Limits are proven at their real counts, from
 * distinct loopback client addresses where an item needs a fresh IP.
 */
import type { Agent } from 'undici';
import {
  LEAKED_SQL,
  LEAKED_STACK_FRAME,
  startAirlineBackend,
  type AirlineBackend,
} from '../backends/airline-booking';
import {
  clientAt,
  header,
  inParallel,
  send,
  startExample,
  type Answer,
  type ExampleGateway,
} from './recipe-helpers';

// The limit tests send 1,000 requests: a few seconds, several times that on a loaded machine.
jest.setTimeout(60_000);

const SITE = 'https://www.example-air.com';

interface Stack {
  readonly app: AirlineBackend;
  readonly gw: ExampleGateway;
}

let stack: Stack | undefined;
const clients: Agent[] = [];

async function start(env: NodeJS.ProcessEnv = {}): Promise<Stack> {
  const app = await startAirlineBackend();
  const gw = await startExample('airline-booking', { BOOKING_URL: app.url, ...env });
  stack = { app, gw };
  return stack;
}

function from(address: string, connections?: number): Agent {
  const agent = clientAt(address, connections);
  clients.push(agent);
  return agent;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  if (!stack) return;
  const { gw, app } = stack;
  stack = undefined;
  await gw.close();
  await app.close();
});

const booking = JSON.stringify({ flightId: 'BW101', passengers: ['Ada Lovelace'] });

/** The three legacy fields, and none of the standard ones. */
function legacyHeaders(answer: Answer): { limit: number; remaining: number; reset: number } {
  expect(header(answer, 'ratelimit-limit')).toBeUndefined();
  expect(header(answer, 'ratelimit-policy')).toBeUndefined();
  return {
    limit: Number(header(answer, 'x-ratelimit-limit')),
    remaining: Number(header(answer, 'x-ratelimit-remaining')),
    reset: Number(header(answer, 'x-ratelimit-reset')),
  };
}

/** X-RateLimit-Reset is the UTC epoch second the window ends, as express-rate-limit sends it. */
function expectResetWithin(reset: number, windowStart: number, windowSeconds: number): void {
  expect(reset).toBeGreaterThanOrEqual(Math.floor(windowStart / 1000) + windowSeconds);
  expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + windowSeconds);
}

/** A 429 as the gateway makes it: JSON, RATE_LIMITED, Retry-After = error.retryAfter. */
function expectRefused(answer: Answer, windowSeconds: number): void {
  expect(answer.status).toBe(429);
  const { error } = answer.json<{ error: { code: string; retryAfter: number; requestId: string } }>();
  expect(error.code).toBe('RATE_LIMITED');
  expect(error.requestId).toBe(header(answer, 'x-request-id'));
  expect(error.retryAfter).toBeGreaterThan(0);
  expect(error.retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(header(answer, 'retry-after')).toBe(String(error.retryAfter));
  const { remaining, reset } = legacyHeaders(answer);
  expect(remaining).toBe(0);
  // The end of the window, in epoch seconds: still ahead, at most a window away.
  expect(reset).toBeGreaterThan(Date.now() / 1000);
  expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + windowSeconds);
}

describe('airline booking API behind breakwater (config/examples/airline-booking.yaml)', () => {
  it('global limit: 1,000 requests per 15 min per IP across the API and auth, with X-RateLimit-* headers', async () => {
    const { app, gw } = await start();
    const client = from('127.0.0.1', 100);
    const login = () =>
      send(`${gw.url}/api/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse' }),
        via: client,
      });
    const started = Date.now();
    // Four logins (the auth limit keeps one in hand) count toward the global 1,000 too ...
    for (let i = 0; i < 4; i++) {
      const answer = await login();
      expect(answer.status).toBe(200);
      expect(legacyHeaders(answer)).toMatchObject({ limit: 5, remaining: 4 - i });
    }
    // ... so 996 reads are left, not 1,000.
    const answers = await inParallel(996, 100, (i) =>
      send(`${gw.url}/api/flights${i % 2 ? '?from=LHR' : ''}`, { via: client }),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const seen = answers.map(legacyHeaders);
    expect(seen.every((h) => h.limit === 1000)).toBe(true);
    expect(seen.map((h) => h.remaining).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 996 }, (_, i) => i),
    );
    // Reset is when the window that opened with the first login ends, in epoch seconds.
    for (const h of seen) expectResetWithin(h.reset, started, 900);
    const hits = app.seen.length;

    const refused = await send(`${gw.url}/api/flights`, { via: client });
    expectRefused(refused, 900);
    expect(legacyHeaders(refused).limit).toBe(1000);
    // Writes are refused too: the global limit covers every method.
    expectRefused(await send(`${gw.url}/api/bookings`, { method: 'POST', body: booking, via: client }), 900);
    // And so is the fifth login, though the auth limit has one left: the global limit refuses it.
    const fifth = await login();
    expectRefused(fifth, 900);
    expect(legacyHeaders(fifth).limit).toBe(1000);
    expect(app.seen.length).toBe(hits);
    // Another client is not affected.
    expect((await send(`${gw.url}/api/flights`, { via: from('127.0.0.2') })).status).toBe(200);
  });

  it('writes (POST/PUT/DELETE): 100 per 15 min per IP, logins included', async () => {
    const { app, gw } = await start();
    const client = from('127.0.0.1', 20);
    const login = () =>
      send(`${gw.url}/api/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse' }),
        via: client,
      });
    // Three logins are writes too: 97 bookings are left.
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(200);
    const created = await inParallel(97, 20, () =>
      send(`${gw.url}/api/bookings`, { method: 'POST', body: booking, via: client }),
    );
    expect(created.filter((a) => a.status !== 201)).toEqual([]);
    // A write shows the write limit, the nearer one.
    expect(created.every((a) => legacyHeaders(a).limit === 100)).toBe(true);
    const left = created.map((a) => legacyHeaders(a).remaining).sort((x, y) => x - y);
    expect(left).toEqual(Array.from({ length: 97 }, (_, i) => i));

    const writes = app.seen.length;
    expectRefused(await send(`${gw.url}/api/bookings`, { method: 'POST', body: booking, via: client }), 900);
    expectRefused(
      await send(`${gw.url}/api/bookings/bk_1`, { method: 'PUT', body: booking, via: client }),
      900,
    );
    expectRefused(await send(`${gw.url}/api/bookings/bk_1`, { method: 'DELETE', via: client }), 900);
    // A login is refused by the write limit, though the auth limit has two left.
    const refusedLogin = await login();
    expectRefused(refusedLogin, 900);
    expect(legacyHeaders(refusedLogin).limit).toBe(100);
    expect(app.seen.length).toBe(writes);

    // Reads go on under the global limit, which counted every request, the four refused
    // writes included (as the app's global limiter, which ran first, did): 1,000 - 105.
    const read = await send(`${gw.url}/api/bookings/bk_1`, { via: client });
    expect(read.status).toBe(200);
    expect(legacyHeaders(read)).toMatchObject({ limit: 1000, remaining: 895 });
    // Another client still writes.
    const other = await send(`${gw.url}/api/bookings`, {
      method: 'POST',
      body: booking,
      via: from('127.0.0.2'),
    });
    expect(other.status).toBe(201);
    expect(legacyHeaders(other)).toMatchObject({ limit: 100, remaining: 99 });
  });

  it('auth endpoints: 5 per 15 min per IP', async () => {
    const { app, gw } = await start();
    const client = from('127.0.0.1');
    const login = (password: string, via = client) =>
      send(`${gw.url}/api/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ email: 'ada@example.com', password }),
        via,
      });
    // Four wrong guesses and the right one: the app answers each.
    for (let i = 0; i < 4; i++) {
      const wrong = await login(`guess-${i}`);
      expect(wrong.status).toBe(401);
      expect(legacyHeaders(wrong)).toMatchObject({ limit: 5, remaining: 4 - i });
    }
    expect((await login('correct horse')).status).toBe(200);
    const logins = app.seen.length;
    // The sixth attempt, even with the right password, and a registration, are refused here.
    expectRefused(await login('correct horse'), 900);
    expectRefused(
      await send(`${gw.url}/api/auth/register`, { method: 'POST', body: '{}', via: client }),
      900,
    );
    expect(app.seen.length).toBe(logins);
    // The rest of the API is not affected, and another client may log in.
    expect((await send(`${gw.url}/api/flights`, { via: client })).status).toBe(200);
    expect((await login('correct horse', from('127.0.0.2'))).status).toBe(200);
  });

  it('request IDs', async () => {
    const { app, gw } = await start();
    // None sent: the gateway makes one, the app and the client both get it, the access line has it.
    const fresh = await send(`${gw.url}/api/flights`);
    const id = header(fresh, 'x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(app.seen.at(-1)!.headers['x-request-id']).toBe(id);
    expect(fresh.json()).toMatchObject({ requestId: id });
    expect(gw.accessLines().find((l) => l.reqId === id)).toMatchObject({ route: 'booking-api', status: 200 });

    // A sane one from the client (a trace from the booking site) is kept end to end.
    const kept = await send(`${gw.url}/api/flights/BW101`, {
      headers: { 'x-request-id': 'web-7f3a:checkout.42' },
    });
    expect(header(kept, 'x-request-id')).toBe('web-7f3a:checkout.42');
    expect(app.seen.at(-1)!.headers['x-request-id']).toBe('web-7f3a:checkout.42');

    // Anything else (spaces, injection attempts, too long) is replaced, never passed on.
    for (const bad of ['has spaces', '"><script>', 'x'.repeat(129)]) {
      const replaced = await send(`${gw.url}/api/flights`, { headers: { 'x-request-id': bad } });
      expect(header(replaced, 'x-request-id')).not.toBe(bad);
      expect(app.seen.at(-1)!.headers['x-request-id']).toBe(header(replaced, 'x-request-id'));
    }
    // The gateway's own answers carry it in the body too.
    const noRoute = await send(`${gw.url}/nowhere`, { headers: { 'x-request-id': 'probe-1' } });
    expect(noRoute.status).toBe(404);
    expect(noRoute.json()).toMatchObject({ error: { code: 'NO_ROUTE', requestId: 'probe-1' } });
  });

  it('sanitised error bodies (no SQL or stack to clients)', async () => {
    const { app, gw } = await start();
    // What the app sends when its database fails, seen directly: the error, the SQL, the stack.
    app.switches.dbError = true;
    const direct = await send(`${app.url}/api/bookings/bk_9`);
    const leaked = direct.json<{ error: string; sql: string; stack: string }>();
    expect(leaked.error).toBe('SequelizeDatabaseError: relation "bookings" does not exist');
    expect(leaked.sql).toBe(`${LEAKED_SQL}'bk_9';`);
    expect(leaked.stack).toContain(LEAKED_STACK_FRAME);

    // Through the gateway: the status stays, the body is the gateway's, nothing leaks.
    for (const [method, path] of [
      ['GET', '/api/bookings/bk_9'],
      ['GET', '/api/flights'],
      ['POST', '/api/auth/login'],
    ] as const) {
      const masked = await send(`${gw.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect(masked.status).toBe(500);
      expect(header(masked, 'content-type')).toBe('application/json; charset=utf-8');
      expect(masked.json()).toEqual({
        error: {
          code: 'UPSTREAM_ERROR',
          message: 'The upstream service failed to handle the request.',
          requestId: header(masked, 'x-request-id'),
        },
      });
      for (const leak of ['Sequelize', 'SELECT', 'node_modules', 'relation', 'stack'])
        expect(masked.text).not.toContain(leak);
      // The request id leads to the app's own log line with the details.
      expect(app.seen.at(-1)!.headers['x-request-id']).toBe(header(masked, 'x-request-id'));
    }
    const lines = gw.accessLines().filter((l) => l.status === 500);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatchObject({ level: 'warn', reason: 'error_masked' });
    expect(await gw.metric('breakwater_errors_masked_total', { route: 'booking-api' })).toBe(2);
    expect(await gw.metric('breakwater_errors_masked_total', { route: 'auth' })).toBe(1);

    // A client's mistake is not an error of the app: the 400 and its field errors pass as sent.
    app.switches.dbError = false;
    const invalid = await send(`${gw.url}/api/bookings`, { method: 'POST', body: '{"flightId":"BW101"}' });
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({
      error: 'Validation failed',
      fields: { passengers: 'at least one passenger' },
    });
  });

  it('Helmet headers', async () => {
    // The load balancer terminates TLS; here the test client plays it (trusted, X-Forwarded-Proto).
    const { gw } = await start({ TRUSTED_PROXY: '127.0.0.1' });
    const overHttps = await send(`${gw.url}/api/flights`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(overHttps.status).toBe(200);
    expect(overHttps.headers).toMatchObject({
      'strict-transport-security': 'max-age=15552000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; frame-ancestors 'self'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    });
    // The app's banner is gone.
    expect(overHttps.headers['x-powered-by']).toBeUndefined();
    // Plain http gets everything but HSTS (browsers ignore it there anyway).
    const plain = await send(`${gw.url}/api/flights`);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
    // The gateway's own answers carry them too.
    const noRoute = await send(`${gw.url}/nowhere`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(noRoute.status).toBe(404);
    expect(noRoute.headers['x-content-type-options']).toBe('nosniff');
  });

  it('a CORS allowlist', async () => {
    const { app, gw } = await start();
    // Preflight from the booking site: answered by the gateway, the app never sees it.
    const preflight = await send(`${gw.url}/api/bookings`, {
      method: 'OPTIONS',
      headers: {
        origin: SITE,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': SITE,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
      'access-control-allow-headers': 'content-type, authorization, x-request-id',
      'access-control-max-age': '600',
    });
    expect(app.seen).toHaveLength(0);

    // The call itself: allowed origin echoed, rate-limit and request-id headers readable by the page.
    const call = await send(`${gw.url}/api/bookings`, {
      method: 'POST',
      body: booking,
      headers: { origin: SITE },
    });
    expect(call.status).toBe(201);
    expect(call.headers['access-control-allow-origin']).toBe(SITE);
    expect(header(call, 'access-control-expose-headers')).toContain('x-ratelimit-remaining');
    expect(header(call, 'vary')).toMatch(/origin/i);

    // Any other origin: no CORS header at all, so the browser refuses to hand over the answer.
    const evil = await send(`${gw.url}/api/flights`, { headers: { origin: 'https://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const evilPreflight = await send(`${gw.url}/api/bookings`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect(evilPreflight.status).toBe(204);
    expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(evilPreflight.headers['access-control-allow-methods']).toBeUndefined();
    // The agents' portal is on the list too.
    const agents = await send(`${gw.url}/api/flights`, {
      headers: { origin: 'https://agents.example-air.com' },
    });
    expect(agents.headers['access-control-allow-origin']).toBe('https://agents.example-air.com');
  });
});

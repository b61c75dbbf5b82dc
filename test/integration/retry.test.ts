/**
 * Retries end to end: real gateway, real loopback upstreams. Each test asserts what the client
 * got, how many requests reached the upstream (and when, and with which body bytes), and the
 * access line's `attempts` and the retries_total metric.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { connect } from 'node:net';
import { get, rawRequest, sleep, statusOf } from '../helpers/http';
import {
  delay,
  failTimes,
  refusedPort,
  resetSocket,
  respond,
  startUpstream,
  type Behaviour,
  type TestUpstream,
} from '../helpers/upstream';

/** Records when each request arrived (performance.now()) before running `then`. */
function timed(times: number[], then: Behaviour): Behaviour {
  return (req, res, hit) => {
    times.push(performance.now());
    return then(req, res, hit);
  };
}

/** Records the sha256 of each request body, then runs `then` once the body is in. */
function hashBodies(hashes: string[], then: Behaviour): Behaviour {
  return (req, res, hit) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => hash.update(chunk));
    req.on('end', () => {
      hashes.push(hash.digest('hex'));
      void then(req, res, hit);
    });
  };
}

/** Behaviour by hit number (1-based); the last one repeats. */
function sequence(...behaviours: Behaviour[]): Behaviour {
  return (req, res, hit) => behaviours[Math.min(hit, behaviours.length) - 1]!(req, res, hit);
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function send(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}) {
  const res = await request(url, { method: method as 'POST', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, reqId: String(res.headers['x-request-id']) };
}

describe('retry policy', () => {
  let gw: TestGateway;
  const up: Record<string, TestUpstream> = {};
  const times: Record<string, number[]> = { retryAfter: [], slowFirst: [] };
  const hashes: Record<string, string[]> = { small: [], big: [] };

  beforeAll(async () => {
    const dead = await refusedPort();
    const behaviours: Record<string, Behaviour> = {
      get: failTimes(2, 503),
      reset: sequence(resetSocket(), respond(200, 'ok')),
      post: failTimes(1, 503),
      idemOn: failTimes(1, 503),
      idemOff: failTimes(1, 503),
      small: hashBodies(hashes.small!, failTimes(2, 503)),
      big: hashBodies(hashes.big!, failTimes(1, 503)),
      pairOk: respond(200, 'ok'),
      slow: timed(times.slowFirst!, delay(2000)),
      fast: timed(times.slowFirst!, respond(200, 'fast')),
      alwaysSlow: delay(2000),
      retryAfter: timed(
        times.retryAfter!,
        sequence(respond(503, 'later', { 'retry-after': '1' }), respond(200)),
      ),
      longRetryAfter: respond(503, 'much later', { 'retry-after': '10' }),
      storm: respond(503, 'down'),
      breaker: respond(503, 'down'),
      slowBody: respond(200),
    };
    await Promise.all(
      Object.entries(behaviours).map(
        async ([name, behaviour]) => (up[name] = await startUpstream(behaviour)),
      ),
    );
    const one = (name: string) => `{ targets: ["${up[name]!.url}"] }`;
    gw = await startGateway(`
upstreams:
${Object.keys(behaviours)
  .map((name) => `  ${name}: ${one(name)}`)
  .join('\n')}
  pair: { targets: ["http://127.0.0.1:${dead}", "${up.pairOk!.url}"] }
  slowThenFast: { targets: ["${up.slow!.url}", "${up.fast!.url}"] }
  breaking:
    targets: ["${up.breaker!.url}"]
    circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 3, window: 10s, resetTimeout: 30s }
routes:
  - { name: get, match: { pathPrefix: /get }, upstream: get, retry: {} }
  - { name: reset, match: { pathPrefix: /reset }, upstream: reset, retry: {} }
  - { name: post, match: { pathPrefix: /post }, upstream: post, retry: {} }
  - { name: idem-on, match: { pathPrefix: /idem-on }, upstream: idemOn, retry: { idempotencyKey: true } }
  - { name: idem-off, match: { pathPrefix: /idem-off }, upstream: idemOff, retry: { idempotencyKey: false } }
  - { name: small, match: { pathPrefix: /small }, upstream: small, retry: { maxBufferSize: 64kb } }
  - { name: big, match: { pathPrefix: /big }, upstream: big, retry: { maxBufferSize: 64kb } }
  - { name: failover, match: { pathPrefix: /failover }, upstream: pair }
  - name: per-try
    match: { pathPrefix: /per-try }
    upstream: slowThenFast
    timeout: 2s
    retry: { perTryTimeout: 200ms, on: [timeout] }
  - name: deadline
    match: { pathPrefix: /deadline }
    upstream: alwaysSlow
    timeout: 300ms
    retry: { attempts: 5, perTryTimeout: 200ms, on: [timeout, 503] }
  - { name: retry-after, match: { pathPrefix: /retry-after }, upstream: retryAfter, retry: {} }
  - name: long-retry-after
    match: { pathPrefix: /long-retry-after }
    upstream: longRetryAfter
    retry: { backoff: { maxRetryAfter: 2s } }
  - { name: slow-body, match: { pathPrefix: /slow-body }, upstream: slowBody, timeout: 300ms, retry: {} }
  - name: breaker
    match: { pathPrefix: /breaker }
    upstream: breaking
    retry: { attempts: 5, backoff: { base: 1ms, max: 2ms } }
  - name: storm
    match: { pathPrefix: /storm }
    upstream: storm
    retry: { attempts: 3, backoff: { base: 1ms, max: 5ms }, budget: { ratio: 0.2, minPerSecond: 10 } }
`);
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(up).map((u) => u.close()));
  });

  const lineOf = (reqId: string) => gw.accessLines().find((l) => l.reqId === reqId);
  async function retriesMetric(route: string, reason: string): Promise<number> {
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    const match = new RegExp(
      `^breakwater_retries_total\\{route="${route}",reason="${reason}"\\} (\\d+)$`,
      'm',
    ).exec(text);
    return match ? Number(match[1]) : 0;
  }

  it('retries a GET through two 503s to the 200, and counts it', async () => {
    const res = await send(`${gw.url}/get`, 'GET');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
    expect(up.get!.hits).toBe(3);
    expect(lineOf(res.reqId)).toMatchObject({ status: 200, attempts: 3 });
    expect(await retriesMetric('get', 'status_503')).toBe(2);
  });

  it('retries a GET after a connection reset', async () => {
    const res = await send(`${gw.url}/reset`, 'GET');
    expect(res.status).toBe(200);
    expect(up.reset!.hits).toBe(2);
    expect(lineOf(res.reqId)).toMatchObject({ attempts: 2 });
    expect(await retriesMetric('reset', 'reset')).toBe(1);
  });

  it('does not retry a POST: the client gets the 503', async () => {
    const res = await send(`${gw.url}/post`, 'POST', Buffer.from('{"n":1}'), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(503);
    expect(up.post!.hits).toBe(1);
    expect(lineOf(res.reqId)).toMatchObject({ status: 503, attempts: 1 });
  });

  it.each([
    ['idem-on', 'idemOn', 200, 2],
    ['idem-off', 'idemOff', 503, 1],
  ])(
    'POST with Idempotency-Key on %s (upstream %s): %i after %i upstream hits',
    async (path, upstream, status, hits) => {
      const res = await send(`${gw.url}/${path}`, 'POST', Buffer.from('{"order":42}'), {
        'content-type': 'application/json',
        'idempotency-key': 'order-42',
      });
      expect(res.status).toBe(status);
      expect(up[upstream]!.hits).toBe(hits);
      expect(up[upstream]!.seen.every((s) => s.headers['idempotency-key'] === 'order-42')).toBe(true);
      expect(up[upstream]!.seen.every((s) => s.bodyBytes === 12)).toBe(true);
    },
  );

  it('replays a 10 KiB PUT body byte for byte', async () => {
    const body = randomBytes(10 * 1024);
    const res = await send(`${gw.url}/small`, 'PUT', body);
    expect(res.status).toBe(200);
    expect(up.small!.hits).toBe(3);
    const sent = createHash('sha256').update(body).digest('hex');
    expect(hashes.small).toEqual([sent, sent, sent]);
    expect(up.small!.seen.map((s) => s.headers['content-length'])).toEqual(['10240', '10240', '10240']);
  });

  it('streams a 1 MiB PUT body (over maxBufferSize) once and does not retry it', async () => {
    const body = randomBytes(1024 * 1024);
    const res = await send(`${gw.url}/big`, 'PUT', body);
    expect(res.status).toBe(503);
    expect(up.big!.hits).toBe(1);
    expect(hashes.big).toEqual([createHash('sha256').update(body).digest('hex')]);
    expect(lineOf(res.reqId)).toMatchObject({ attempts: 1 });
  });

  it('moves a refused connection to the other target without a retry block, for GET and POST', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await send(`${gw.url}/failover`, 'GET'));
      results.push(await send(`${gw.url}/failover`, 'POST', Buffer.from('hello')));
    }
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(up.pairOk!.hits).toBe(6);
    expect(up.pairOk!.seen.filter((s) => s.method === 'POST').map((s) => s.bodyBytes)).toEqual([5, 5, 5]);
    const attempts = results.map((r) => lineOf(r.reqId)!.attempts as number);
    // Round robin sends every other first attempt to the dead target.
    expect(attempts.filter((a) => a === 2).length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((a) => a === 1 || a === 2)).toBe(true);
    expect(await retriesMetric('failover', 'connect_failure')).toBe(attempts.filter((a) => a === 2).length);
  });

  it('gives a slow first try its per-try timeout, then succeeds on the other target', async () => {
    const started = performance.now();
    const res = await send(`${gw.url}/per-try`, 'GET');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.text).toBe('fast');
    expect(up.slow!.hits).toBe(1);
    expect(up.fast!.hits).toBe(1);
    expect(times.slowFirst![1]! - times.slowFirst![0]!).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(800);
    expect(lineOf(res.reqId)).toMatchObject({ status: 200, attempts: 2 });
    expect(await retriesMetric('per-try', 'timeout')).toBe(1);
  });

  it('keeps every attempt inside the route timeout: 504 at ~300 ms, not 5 × 200 ms', async () => {
    const started = performance.now();
    const res = await send(`${gw.url}/deadline`, 'GET');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(400);
    expect(up.alwaysSlow!.hits).toBe(2);
    expect(lineOf(res.reqId)).toMatchObject({ status: 504, attempts: 2 });
  });

  it('waits for a short Retry-After before retrying', async () => {
    const res = await send(`${gw.url}/retry-after`, 'GET');
    expect(res.status).toBe(200);
    expect(up.retryAfter!.hits).toBe(2);
    expect(times.retryAfter![1]! - times.retryAfter![0]!).toBeGreaterThanOrEqual(950);
  });

  it('does not wait for a Retry-After longer than maxRetryAfter: the 503 goes back at once', async () => {
    const started = performance.now();
    const res = await send(`${gw.url}/long-retry-after`, 'GET');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('10');
    expect(res.text).toBe('much later');
    expect(performance.now() - started).toBeLessThan(500);
    expect(up.longRetryAfter!.hits).toBe(1);
  });

  it('answers 408 when a bufferable body does not arrive within the route timeout', async () => {
    const head = 'PUT /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n';
    const started = performance.now();
    const raw = await rawRequest(gw.port, `${head}${'a'.repeat(10)}`, 2000);
    expect(statusOf(raw)).toBe(408);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(up.slowBody!.hits).toBe(0);
  });

  it('sends nothing upstream when the client leaves while its body is being buffered', async () => {
    const socket = connect(gw.port, '127.0.0.1');
    socket.write('PUT /slow-body/gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    await sleep(50);
    socket.destroy();
    await waitFor(() => gw.accessLines().some((l) => l.path === '/slow-body/gone'));
    // The parser reports the cut-short body (400, as for any request); the buffer just stops.
    expect([400, 499]).toContain(gw.accessLines().find((l) => l.path === '/slow-body/gone')!.status);
    expect(up.slowBody!.hits).toBe(0);
  });

  it('stops retrying at once when the breaker opens between attempts', async () => {
    const res = await send(`${gw.url}/breaker`, 'GET');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'CIRCUIT_OPEN' } });
    // Three 503s open the breaker (volumeThreshold 3); the fourth attempt is refused without a hit.
    expect(up.breaker!.hits).toBe(3);
    expect(lineOf(res.reqId)).toMatchObject({ attempts: 4, reason: 'circuit_open' });
    expect(await retriesMetric('breaker', 'status_503')).toBe(3);
  });

  it('holds a storm against an always-503 upstream to the retry budget', async () => {
    const total = 500;
    let issued = 0;
    const started = performance.now();
    const worker = async () => {
      while (issued < total) {
        issued++;
        const res = await send(`${gw.url}/storm`, 'GET');
        expect(res.status).toBe(503);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    const elapsedSeconds = (performance.now() - started) / 1000;
    const hits = up.storm!.hits;
    // The ratio's share is always there; the reserve tops it up at 10/s.
    expect(hits - total).toBeGreaterThanOrEqual(0.2 * total);
    // The reserve allows 10/s plus one second's worth up front; one more second of slack covers
    // a retry landing on a bucket edge. A broken budget (e.g. 3 attempts each) lands near 1,500.
    expect(hits).toBeLessThanOrEqual(1.2 * total + 10 * (elapsedSeconds + 2));
    const exhausted = await retriesMetric('storm', 'budget_exhausted');
    const sent = await retriesMetric('storm', 'status_503');
    expect(exhausted).toBeGreaterThan(0);
    expect(sent).toBe(hits - total);
    const lines = gw.accessLines().filter((l) => l.route === 'storm');
    expect(lines).toHaveLength(total);
    expect(lines.reduce((sum, l) => sum + (l.attempts as number), 0)).toBe(hits);
    expect(lines.filter((l) => l.reason === 'budget_exhausted').length).toBe(exhausted);
  });
});

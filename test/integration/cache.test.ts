/**
 * The response cache against the real gateway and a real loopback upstream: hits, misses and
 * what is never stored, Vary, invalidation, 304 revalidation, stale-if-error (5xx, refused
 * connection, timeout), stale-while-revalidate, coalescing, HEAD, large bodies, Cache-Status
 * on every response of a cached route, and the access-line `cache` field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get, sleep } from '../helpers/http';
import { download, startUpstream, type Behaviour, type TestUpstream } from '../helpers/upstream';

/** One upstream whose behaviour is chosen per path, so each test owns its paths and hit counts. */
const behaviours = new Map<string, Behaviour>();
const hitsByPath = new Map<string, number>();
const hits = (path: string) => hitsByPath.get(path) ?? 0;

function on(path: string, ...sequence: Behaviour[]): void {
  behaviours.set(path, (req, res, _hit) => {
    const n = hits(path);
    return sequence[Math.min(n - 1, sequence.length - 1)]!(req, res, n);
  });
}

function reply(status: number, body = '', headers: Record<string, string | string[]> = {}): Behaviour {
  return (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
}

/** 304 when the request carries If-None-Match `etag`, else 200 `body`. */
function validating(etag: string, body: string, headers: Record<string, string> = {}): Behaviour {
  return (req, res) => {
    req.resume();
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, ...headers });
      res.end();
    } else reply(200, body, { etag, ...headers })(req, res, 0);
  };
}

const waitFor = async (check: () => boolean, what: string, timeoutMs = 5000) => {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const cacheStatus = (res: { headers: Record<string, unknown> }) => res.headers['cache-status'];

describe('response cache', () => {
  let up: TestUpstream;
  let flaky: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream((req: IncomingMessage, res: ServerResponse, hit) => {
      const path = new URL(req.url!, 'http://x').pathname;
      hitsByPath.set(path, hits(path) + 1);
      const behaviour = behaviours.get(path);
      if (behaviour) return behaviour(req, res, hit);
      reply(404, 'no behaviour')(req, res, hit);
    });
    flaky = await startUpstream(reply(200, 'flaky v1', { 'cache-control': 'max-age=0' }));
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  cache: { maxSize: 8mb }
upstreams:
  app: { targets: ["${up.url}"] }
  flaky: { targets: ["${flaky.url}"] }
routes:
  - name: swr
    match: { pathPrefix: /swr }
    upstream: app
    cache: { ttl: 30s, staleWhileRevalidate: 1m }
  - name: short
    match: { pathPrefix: /short }
    upstream: app
    timeout: 300ms
    cache: { ttl: 30s, staleIfError: 10m }
  - name: flaky
    match: { pathPrefix: /flaky }
    upstream: flaky
    cache: { ttl: 30s, staleIfError: 10m }
  - name: fb
    match: { pathPrefix: /fb }
    upstream: app
    cache: { ttl: 30s, staleIfError: 10m }
    fallback: { status: 503, body: static, on: [5xx, unavailable] }
  - name: plain
    match: { pathPrefix: /plain }
    upstream: app
  - name: main
    match: { pathPrefix: / }
    upstream: app
    cache: { ttl: 30s, staleIfError: 10m }
`);
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([up.close(), flaky.close()]);
  });

  const line = (res: { headers: Record<string, unknown> }) =>
    gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);

  it('stores a miss and answers the next request from the cache', async () => {
    on('/hit', reply(200, 'hello', { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }));
    const first = await get(`${gw.url}/hit`);
    const second = await get(`${gw.url}/hit`);
    expect(first.text).toBe('hello');
    expect(cacheStatus(first)).toBe('breakwater; fwd=miss; stored');
    expect(second.text).toBe('hello');
    expect(second.headers['content-type']).toBe('text/plain');
    expect(cacheStatus(second)).toMatch(/^breakwater; hit; ttl=(59|60)$/);
    expect(second.headers.age).toBe('0');
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(hits('/hit')).toBe(1);
    expect(line(first)).toMatchObject({ cache: 'miss' });
    expect(line(second)).toMatchObject({ cache: 'hit', status: 200 });
  });

  it('uses the route ttl when the upstream gives no freshness, and counts Age from Date and Age', async () => {
    on('/ttl', reply(200, 'ttl', { date: new Date(Date.now() - 5000).toUTCString() }));
    on('/aged', reply(200, 'aged', { 'cache-control': 'max-age=100', age: '10' }));
    await get(`${gw.url}/ttl`);
    const ttl = await get(`${gw.url}/ttl`);
    expect(cacheStatus(ttl)).toMatch(/^breakwater; hit; ttl=2[45]$/);
    expect(Number(ttl.headers.age)).toBeGreaterThanOrEqual(5);
    await get(`${gw.url}/aged`);
    const first = Number((await get(`${gw.url}/aged`)).headers.age);
    expect(first).toBeGreaterThanOrEqual(10);
    await sleep(1100);
    expect(Number((await get(`${gw.url}/aged`)).headers.age)).toBeGreaterThanOrEqual(first + 1);
    expect(hits('/ttl')).toBe(1);
    expect(hits('/aged')).toBe(1);
  });

  it.each([
    ['no-store', { 'cache-control': 'no-store' }, {}],
    ['private', { 'cache-control': 'private, max-age=60' }, {}],
    ['Set-Cookie', { 'cache-control': 'public, max-age=60', 'set-cookie': 'session=abc' }, {}],
    ['Authorization', { 'cache-control': 'max-age=60' }, { authorization: 'Bearer a' }],
    ['a Cookie on the route ttl alone', {}, { cookie: 'session=abc' }],
    ['a 500', { 'cache-control': 'max-age=60' }, {}],
  ])('never stores a response with %s', async (name, headers, requestHeaders) => {
    const path = `/never-${name.replace(/\W+/g, '-')}`;
    on(path, reply(name === 'a 500' ? 500 : 200, 'secret', headers));
    const first = await get(`${gw.url}${path}`, requestHeaders);
    const second = await get(`${gw.url}${path}`, requestHeaders);
    expect(hits(path)).toBe(2);
    expect(cacheStatus(first)).toBe('breakwater; fwd=miss');
    expect(cacheStatus(second)).toBe('breakwater; fwd=miss');
  });

  it('stores a response to an Authorization request when it says public', async () => {
    on('/auth-public', reply(200, 'shared', { 'cache-control': 'public, max-age=60' }));
    await get(`${gw.url}/auth-public`, { authorization: 'Bearer a' });
    const res = await get(`${gw.url}/auth-public`, { authorization: 'Bearer b' });
    expect(cacheStatus(res)).toMatch(/hit/);
    expect(hits('/auth-public')).toBe(1);
  });

  it('keeps Vary variants apart and never serves Vary: *', async () => {
    on('/vary', (req, res) =>
      reply(200, `lang=${req.headers['accept-language']}`, {
        vary: 'Accept-Language',
        'cache-control': 'max-age=60',
      })(req, res, 0),
    );
    const en = { 'accept-language': 'en' };
    const fr = { 'accept-language': 'fr' };
    expect((await get(`${gw.url}/vary`, en)).text).toBe('lang=en');
    expect((await get(`${gw.url}/vary`, fr)).text).toBe('lang=fr');
    const enAgain = await get(`${gw.url}/vary`, en);
    const frAgain = await get(`${gw.url}/vary`, fr);
    expect([enAgain.text, frAgain.text]).toEqual(['lang=en', 'lang=fr']);
    expect(cacheStatus(enAgain)).toMatch(/hit/);
    expect(cacheStatus(frAgain)).toMatch(/hit/);
    expect(hits('/vary')).toBe(2);

    on('/vary-star', reply(200, 'star', { vary: '*', 'cache-control': 'max-age=60' }));
    await get(`${gw.url}/vary-star`);
    await get(`${gw.url}/vary-star`);
    expect(hits('/vary-star')).toBe(2);
  });

  it('invalidates the URL (and its Location) after a successful POST', async () => {
    on(
      '/items',
      reply(200, 'list', { 'cache-control': 'max-age=60' }),
      reply(201, 'created', { location: '/items/7' }),
      reply(200, 'list v2', { 'cache-control': 'max-age=60' }),
    );
    on('/items/7', reply(200, 'item 7', { 'cache-control': 'max-age=60' }));
    await get(`${gw.url}/items`);
    await get(`${gw.url}/items/7`);
    expect(cacheStatus(await get(`${gw.url}/items`))).toMatch(/hit/);
    const post = await get(`${gw.url}/items`, {}, 'POST');
    expect(post.status).toBe(201);
    expect(cacheStatus(post)).toBe('breakwater; fwd=bypass');
    expect(line(post)).toMatchObject({ cache: 'bypass' });
    const after = await get(`${gw.url}/items`);
    expect(after.text).toBe('list v2');
    expect(cacheStatus(after)).toBe('breakwater; fwd=miss; stored');
    expect(cacheStatus(await get(`${gw.url}/items/7`))).toBe('breakwater; fwd=miss; stored');
    expect(hits('/items')).toBe(3);
    expect(hits('/items/7')).toBe(2);
  });

  it('does not invalidate after a failed POST', async () => {
    on('/kept', reply(200, 'kept', { 'cache-control': 'max-age=60' }), reply(409, 'conflict'));
    await get(`${gw.url}/kept`);
    expect((await get(`${gw.url}/kept`, {}, 'POST')).status).toBe(409);
    expect(cacheStatus(await get(`${gw.url}/kept`))).toMatch(/hit/);
  });

  it('revalidates with If-None-Match and answers 200 from the entry on a 304', async () => {
    on('/etag', validating('"v1"', 'validated body', { 'cache-control': 'max-age=0' }));
    const first = await get(`${gw.url}/etag`);
    expect(first.text).toBe('validated body');
    const second = await get(`${gw.url}/etag`);
    expect(second.status).toBe(200);
    expect(second.text).toBe('validated body');
    expect(cacheStatus(second)).toBe('breakwater; fwd=stale; fwd-status=304');
    expect(line(second)).toMatchObject({ cache: 'revalidated' });
    const seen = up.seen.filter((s) => s.url === '/etag');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers['if-none-match']).toBe('"v1"');
  });

  it('revalidates a no-cache response before every use', async () => {
    on('/no-cache', validating('"n1"', 'nc', { 'cache-control': 'no-cache' }));
    await get(`${gw.url}/no-cache`);
    const again = await get(`${gw.url}/no-cache`);
    expect(again.text).toBe('nc');
    expect(cacheStatus(again)).toBe('breakwater; fwd=stale; fwd-status=304');
    expect(hits('/no-cache')).toBe(2);
  });

  it("answers a client's matching If-None-Match with a 304 from the cache", async () => {
    on('/client-etag', reply(200, 'body', { etag: '"c1"', 'cache-control': 'max-age=60' }));
    await get(`${gw.url}/client-etag`);
    const res = await get(`${gw.url}/client-etag`, { 'if-none-match': 'W/"c1"' });
    expect(res.status).toBe(304);
    expect(res.headers.etag).toBe('"c1"');
    expect(cacheStatus(res)).toMatch(/hit/);
    expect(hits('/client-etag')).toBe(1);
  });

  it('goes upstream for a request with no-cache (and stores), bypasses for no-store', async () => {
    on('/req-cc', reply(200, 'cc', { 'cache-control': 'max-age=60' }));
    await get(`${gw.url}/req-cc`);
    const noCache = await get(`${gw.url}/req-cc`, { 'cache-control': 'no-cache' });
    expect(cacheStatus(noCache)).toBe('breakwater; fwd=request; stored');
    const noStore = await get(`${gw.url}/req-cc`, { 'cache-control': 'no-store' });
    expect(cacheStatus(noStore)).toBe('breakwater; fwd=bypass');
    expect(hits('/req-cc')).toBe(3);
    expect(cacheStatus(await get(`${gw.url}/req-cc`))).toMatch(/hit/);
  });

  it('bypasses Range requests and never stores a 206', async () => {
    on('/range', reply(206, 'part', { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-3/10' }));
    const res = await get(`${gw.url}/range`, { range: 'bytes=0-3' });
    expect(res.status).toBe(206);
    expect(cacheStatus(res)).toBe('breakwater; fwd=bypass');
    await get(`${gw.url}/range`);
    expect(hits('/range')).toBe(2);
  });

  it('answers an upstream 5xx with the stale entry (stale-if-error)', async () => {
    on('/sie-5xx', reply(200, 'good', { 'cache-control': 'max-age=0' }), reply(503, 'down'));
    await get(`${gw.url}/sie-5xx`);
    const res = await get(`${gw.url}/sie-5xx`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('good');
    expect(cacheStatus(res)).toBe('breakwater; hit; fwd=stale; fwd-status=503; detail=stale-if-error');
    expect(line(res)).toMatchObject({ cache: 'stale', reason: 'stale_if_error', status: 200 });
    expect(hits('/sie-5xx')).toBe(2);
  });

  it('answers a refused connection with the stale entry', async () => {
    const first = await get(`${gw.url}/flaky`);
    expect(first.text).toBe('flaky v1');
    await flaky.close();
    const res = await get(`${gw.url}/flaky`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('flaky v1');
    expect(cacheStatus(res)).toBe('breakwater; hit; fwd=stale; fwd-status=502; detail=stale-if-error');
    // No entry: the gateway's own 502, still with Cache-Status.
    const miss = await get(`${gw.url}/flaky/other`);
    expect(miss.status).toBe(502);
    expect(cacheStatus(miss)).toBe('breakwater; fwd=miss');
  });

  it('answers a timeout with the stale entry', async () => {
    on('/short/slow', reply(200, 'quick', { 'cache-control': 'max-age=0' }), (req, res) => {
      const timer = setTimeout(() => reply(200, 'late')(req, res, 0), 2000);
      res.on('close', () => clearTimeout(timer));
    });
    await get(`${gw.url}/short/slow`);
    const res = await get(`${gw.url}/short/slow`);
    expect(res.text).toBe('quick');
    expect(cacheStatus(res)).toBe('breakwater; hit; fwd=stale; fwd-status=504; detail=stale-if-error');
  });

  it('never serves stale with must-revalidate, proxy-revalidate or s-maxage', async () => {
    for (const cc of ['max-age=0, must-revalidate', 'max-age=0, proxy-revalidate', 's-maxage=0']) {
      const path = `/mr-${cc.replace(/\W+/g, '-')}`;
      // The ETag keeps the entry stored (it can still be revalidated), so only the rule stops it.
      on(path, reply(200, 'good', { 'cache-control': cc, etag: '"m"' }), reply(503, 'down'));
      await get(`${gw.url}${path}`);
      const res = await get(`${gw.url}${path}`);
      expect(res.status).toBe(503);
      expect(cacheStatus(res)).toBe('breakwater; fwd=stale');
      expect(up.seen.filter((s) => s.url === path)[1]!.headers['if-none-match']).toBe('"m"');
    }
  });

  it('lets the stale entry win over the static fallback, which answers when there is none', async () => {
    on('/fb/a', reply(200, 'cached', { 'cache-control': 'max-age=0' }), reply(500, 'broken'));
    on('/fb/b', reply(500, 'broken'));
    await get(`${gw.url}/fb/a`);
    const stale = await get(`${gw.url}/fb/a`);
    expect(stale.text).toBe('cached');
    expect(cacheStatus(stale)).toMatch(/detail=stale-if-error/);
    const fallback = await get(`${gw.url}/fb/b`);
    expect(fallback.status).toBe(503);
    expect(fallback.text).toBe('static');
  });

  it('answers stale within stale-while-revalidate and refreshes exactly once in the background', async () => {
    let releaseRefresh: () => void = () => undefined;
    const refreshHeld = new Promise<void>((resolve) => (releaseRefresh = resolve));
    on('/swr/a', reply(200, 'v1', { 'cache-control': 'max-age=0' }), (req, res) => {
      void refreshHeld.then(() => reply(200, 'v2', { 'cache-control': 'max-age=60' })(req, res, 0));
    });
    await get(`${gw.url}/swr/a`);
    // The refresh is held until every stale answer is in: all ten find it running.
    const stale = await Promise.all(Array.from({ length: 10 }, () => get(`${gw.url}/swr/a`)));
    for (const res of stale) {
      expect(res.text).toBe('v1');
      expect(cacheStatus(res)).toMatch(/^breakwater; hit; ttl=-\d+; detail=stale-while-revalidate$/);
      expect(line(res)).toMatchObject({ cache: 'stale' });
    }
    expect(hits('/swr/a')).toBe(2);
    releaseRefresh();
    let fresh = await get(`${gw.url}/swr/a`);
    for (let i = 0; i < 250 && fresh.text !== 'v2'; i++) {
      await sleep(20);
      fresh = await get(`${gw.url}/swr/a`);
    }
    expect(fresh.text).toBe('v2');
    expect(cacheStatus(fresh)).toMatch(/^breakwater; hit; ttl=/);
    expect(hits('/swr/a')).toBe(2);
  });

  it('collapses 50 concurrent misses into one upstream request', async () => {
    // Held long enough for the 50 to arrive; one that still came late is a plain hit, never a 2nd fetch.
    on('/coalesce', (req, res) => {
      setTimeout(() => reply(200, 'x'.repeat(10_000), { 'cache-control': 'max-age=60' })(req, res, 0), 500);
    });
    const all = await Promise.all(Array.from({ length: 50 }, () => get(`${gw.url}/coalesce`)));
    expect(hits('/coalesce')).toBe(1);
    for (const res of all) {
      expect(res.status).toBe(200);
      expect(res.text).toBe('x'.repeat(10_000));
    }
    const statuses = all.map((res) => String(cacheStatus(res)).replace(/ttl=\d+/, 'ttl=N'));
    expect(statuses.filter((s) => s === 'breakwater; fwd=miss; stored')).toHaveLength(1);
    expect(statuses.filter((s) => s !== 'breakwater; fwd=miss; stored')).toEqual(
      Array(49).fill(expect.stringMatching(/^breakwater; (fwd=miss; collapsed|hit; ttl=N)$/)),
    );
    expect(statuses.filter((s) => s === 'breakwater; fwd=miss; collapsed').length).toBeGreaterThan(0);
  });

  it('sends each waiter upstream itself when the response is not storable', async () => {
    on(
      '/coalesce-private',
      (req, res) =>
        void setTimeout(() => reply(200, 'mine', { 'cache-control': 'private' })(req, res, 0), 100),
    );
    const all = await Promise.all(Array.from({ length: 5 }, () => get(`${gw.url}/coalesce-private`)));
    expect(all.map((res) => res.text)).toEqual(Array(5).fill('mine'));
    expect(hits('/coalesce-private')).toBe(5);
  });

  it('once a URL proved not storable, concurrent misses go upstream at once instead of queueing', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    on('/no-store-api', (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        reply(200, 'fresh', { 'cache-control': 'no-store' })(req, res, 0);
      }, 300);
    });
    // The first answer teaches the cache that this URL is not storable.
    expect((await get(`${gw.url}/no-store-api`)).text).toBe('fresh');
    const all = await Promise.all(Array.from({ length: 5 }, () => get(`${gw.url}/no-store-api`)));
    expect(all.map((res) => res.text)).toEqual(Array(5).fill('fresh'));
    expect(hits('/no-store-api')).toBe(6);
    // Queued behind one another they would have run one, then four; passing, they overlap.
    expect(maxInFlight).toBe(5);
  });

  it('answers HEAD from a GET entry and stores nothing on a HEAD miss', async () => {
    on('/head', reply(200, 'head body', { 'cache-control': 'max-age=60' }));
    const headMiss = await get(`${gw.url}/head`, {}, 'HEAD');
    expect(cacheStatus(headMiss)).toBe('breakwater; fwd=miss');
    await get(`${gw.url}/head`);
    const headHit = await get(`${gw.url}/head`, {}, 'HEAD');
    expect(headHit.text).toBe('');
    expect(headHit.headers['content-length']).toBe('9');
    expect(cacheStatus(headHit)).toMatch(/hit/);
    expect(up.seen.filter((s) => s.url === '/head').map((s) => s.method)).toEqual(['HEAD', 'GET']);
  });

  it('streams a large body while storing it, and streams an oversize one uncached', async () => {
    on('/large', download(900 * 1024));
    on('/oversize', download(2 * 1024 * 1024));
    const first = await get(`${gw.url}/large`);
    expect(first.text.length).toBe(900 * 1024);
    const second = await get(`${gw.url}/large`);
    expect(second.text.length).toBe(900 * 1024);
    expect(cacheStatus(second)).toMatch(/hit/);
    expect(hits('/large')).toBe(1);

    const big = await get(`${gw.url}/oversize`);
    expect(big.text.length).toBe(2 * 1024 * 1024);
    expect(cacheStatus(big)).toBe('breakwater; fwd=miss');
    await get(`${gw.url}/oversize`);
    expect(hits('/oversize')).toBe(2);
  });

  it('does not store a chunked body that grows past the per-entry bound', async () => {
    on('/chunked-big', (req, res) => {
      req.resume();
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      const chunk = Buffer.alloc(256 * 1024, 0x62);
      for (let i = 0; i < 6; i++) res.write(chunk);
      res.end();
    });
    const first = await get(`${gw.url}/chunked-big`);
    expect(first.text.length).toBe(6 * 256 * 1024);
    expect(cacheStatus(first)).toBe('breakwater; fwd=miss; stored');
    await get(`${gw.url}/chunked-big`);
    expect(hits('/chunked-big')).toBe(2);
  });

  it('does not store a body whose client left halfway', async () => {
    let release: () => void = () => undefined;
    on(
      '/halfway',
      (req, res) => {
        req.resume();
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': 20 });
        res.write('0123456789');
        release = () => res.end('0123456789');
      },
      reply(200, 'second', { 'cache-control': 'max-age=60' }),
    );
    const res = await request(`${gw.url}/halfway`);
    for await (const chunk of res.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break; // leaves after the first chunk: undici destroys the socket
    }
    await waitFor(
      () => gw.accessLines().some((l) => l.path === '/halfway' && l.status === 200),
      'the access line',
    );
    release();
    const again = await get(`${gw.url}/halfway`);
    expect(again.text).toBe('second');
    expect(hits('/halfway')).toBe(2);
  });

  it('sends the head of a slow storable body at once, then stores the body', async () => {
    let release: () => void = () => undefined;
    on('/slow-body', (req, res) => {
      req.resume();
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/event-stream' });
      res.flushHeaders();
      release = () => res.end('data: done\n\n');
    });
    // The body is held until the client has the head: a head held for the first byte deadlocks.
    const res = await request(`${gw.url}/slow-body`);
    expect(res.headers['cache-status']).toBe('breakwater; fwd=miss; stored');
    release();
    expect(await res.body.text()).toBe('data: done\n\n');
    let again = await get(`${gw.url}/slow-body`);
    for (let i = 0; i < 100 && !String(cacheStatus(again)).includes('hit'); i++) {
      await sleep(10);
      again = await get(`${gw.url}/slow-body`);
    }
    expect(again.text).toBe('data: done\n\n');
    expect(hits('/slow-body')).toBe(1);
  });

  it('adds Cache-Status only on cached routes', async () => {
    on('/plain', reply(200, 'plain', { 'cache-control': 'max-age=60' }));
    const res = await get(`${gw.url}/plain`);
    expect(res.headers['cache-status']).toBeUndefined();
  });

  it('reports hits and misses in the cache metrics', async () => {
    const text = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(text).toMatch(/breakwater_cache_requests_total\{route="main",result="hit"\} [1-9]/);
    expect(text).toMatch(/breakwater_cache_requests_total\{route="main",result="miss"\} [1-9]/);
    expect(text).toMatch(/breakwater_cache_bytes [1-9]/);
  });
});

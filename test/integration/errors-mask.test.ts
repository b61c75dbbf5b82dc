/**
 * `errors: mask` against the real gateway and real loopback upstreams: an upstream 5xx keeps its
 * status but its body (a stack trace here) is replaced by the gateway's UPSTREAM_ERROR JSON, with
 * the body-describing headers gone and Retry-After kept; 4xx and 2xx pass; the gateway's own
 * errors, a static 5xx fallback and a stale-if-error answer are untouched; `server.errors` is
 * every route's default; a large error body is cut off, a small one drained (connection kept);
 * the access line, the metric and the route chain say so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get } from '../helpers/http';
import { refusedPort, startUpstream, type Behaviour, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const LEAK = 'Traceback: at Db.query (/srv/app/db.js:42) password=hunter2 host=10.1.2.3';
const MASKED_MESSAGE = 'The upstream service failed to handle the request.';

/** One upstream whose behaviour is chosen by path; each test owns its paths. */
const behaviours = new Map<string, Behaviour>();
const hitsByPath = new Map<string, number>();
const hits = (path: string) => hitsByPath.get(path) ?? 0;

function on(path: string, ...sequence: Behaviour[]): void {
  behaviours.set(path, (req, res, hit) => {
    const n = hits(path);
    return sequence[Math.min(n - 1, sequence.length - 1)]!(req, res, hit);
  });
}

function reply(status: number, body = '', headers: Record<string, string | string[]> = {}): Behaviour {
  return (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
}

/** Sends the head at once and the body a little later, so the body is still coming when masked. */
let lateBodiesSent = 0;
function lateBody(status: number, body: string): Behaviour {
  return (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
    res.flushHeaders();
    setTimeout(() => res.end(body, () => lateBodiesSent++), 30);
  };
}

/** Streams `total` bytes of an error page; records whether it was cut off before the end. */
const bigError = { finished: false, closedEarly: false };
function hugeErrorPage(total: number): Behaviour {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.writeHead(500, { 'content-type': 'text/html', 'content-length': total });
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    res.on('close', () => {
      if (!res.writableFinished) bigError.closedEarly = true;
    });
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end(() => (bigError.finished = true));
    };
    pump();
  };
}

describe('errors: mask', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let deadPort: number;

  beforeAll(async () => {
    deadPort = await refusedPort();
    up = await startUpstream((req, res, hit) => {
      const path = req.url!.split('?')[0]!;
      hitsByPath.set(path, hits(path) + 1);
      const behaviour = behaviours.get(path) ?? reply(404, 'unknown path');
      return behaviour(req, res, hit);
    });
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }
  errors: mask
upstreams:
  app: { targets: ["${up.url}"] }
  dead: { targets: ["http://127.0.0.1:${deadPort}"] }
routes:
  - name: passes
    match: { pathPrefix: /pass }
    upstream: app
    errors: pass
  - name: fallback5xx
    match: { pathPrefix: /fb }
    upstream: app
    fallback: { status: 503, body: 'static fallback', on: [5xx] }
  - name: cached
    match: { pathPrefix: /cached }
    upstream: app
    cache: { ttl: 30s, staleIfError: 10m }
  - name: dead
    match: { pathPrefix: /dead }
    upstream: dead
  - name: masked
    upstream: app
`);
  });

  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const lineOf = (reqId: unknown) => gw.accessLines().find((l) => l.reqId === reqId);

  it('replaces an upstream 500 body with the gateway error JSON, keeping status and Retry-After', async () => {
    on(
      '/boom',
      reply(500, LEAK, {
        'content-type': 'text/plain',
        etag: '"abc"',
        'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT',
        'content-md5': 'Q2hlY2sgSW50ZWdyaXR5IQ==',
        'content-language': 'en',
        'retry-after': '30',
        'x-app': 'kept',
      }),
    );
    const res = await get(`${gw.url}/boom`);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('Traceback');
    const reqId = res.headers['x-request-id'];
    expect(typeof reqId).toBe('string');
    expect(res.json()).toEqual({
      error: { code: 'UPSTREAM_ERROR', message: MASKED_MESSAGE, requestId: reqId },
    });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    expect(res.headers['retry-after']).toBe('30');
    expect(res.headers['x-app']).toBe('kept');
    for (const gone of ['etag', 'last-modified', 'content-md5', 'content-language'])
      expect(res.headers[gone]).toBeUndefined();
    await waitFor(() => lineOf(reqId) !== undefined, 'the access line');
    expect(lineOf(reqId)).toMatchObject({ route: 'masked', status: 500, reason: 'error_masked' });
  });

  it.each([502, 503, 504, 599])('masks an upstream %i too', async (status) => {
    on(`/status-${status}`, reply(status, LEAK));
    const res = await get(`${gw.url}/status-${status}`);
    expect(res.status).toBe(status);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_ERROR');
  });

  it.each([
    [200, 'fine'],
    [404, 'no such thing'],
    [499, 'client thing'],
  ])('passes an upstream %i as sent', async (status, body) => {
    on(`/ok-${status}`, reply(status, body, { etag: '"e"' }));
    const res = await get(`${gw.url}/ok-${status}`);
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
    expect(res.headers.etag).toBe('"e"');
  });

  it('lets a route with errors: pass override the server default', async () => {
    on('/pass/x', reply(500, LEAK));
    const res = await get(`${gw.url}/pass/x`);
    expect(res.status).toBe(500);
    expect(res.text).toBe(LEAK);
  });

  it('leaves the static fallback for 5xx in charge', async () => {
    on('/fb/x', reply(500, LEAK));
    const res = await get(`${gw.url}/fb/x`);
    expect(res.status).toBe(503);
    expect(res.text).toBe('static fallback');
    await waitFor(() => lineOf(res.headers['x-request-id']) !== undefined, 'the access line');
    expect(lineOf(res.headers['x-request-id'])).toMatchObject({ reason: 'fallback_5xx' });
  });

  it('leaves a stale-if-error answer alone and masks a 5xx when nothing is stored', async () => {
    on('/cached/a', reply(200, 'good', { 'cache-control': 'max-age=0' }), reply(503, LEAK));
    expect((await get(`${gw.url}/cached/a`)).text).toBe('good');
    const stale = await get(`${gw.url}/cached/a`);
    expect(stale.status).toBe(200);
    expect(stale.text).toBe('good');
    expect(stale.headers['cache-status']).toMatch(/detail=stale-if-error/);
    on('/cached/none', reply(503, LEAK));
    const masked = await get(`${gw.url}/cached/none`);
    expect(masked.status).toBe(503);
    expect(masked.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_ERROR');
    expect(masked.headers['cache-status']).toBeDefined();
  });

  it("keeps the gateway's own errors as they are", async () => {
    const res = await get(`${gw.url}/dead/x`);
    expect(res.status).toBe(502);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('drains a small error body so the upstream connection is reused', async () => {
    on('/small', lateBody(500, 'x'.repeat(2000)));
    const before = up.connections;
    for (let i = 1; i <= 4; i++) {
      const res = await get(`${gw.url}/small`);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_ERROR');
      // The client has its answer before the upstream body is read; the drain then finishes.
      await waitFor(() => lateBodiesSent === i, `error body ${i} to be sent in full`);
    }
    // Cancelling the bodies instead would cost a new connection per request (4).
    expect(up.connections - before).toBeLessThanOrEqual(2);
  });

  it('cuts a large error body off instead of reading or buffering it', async () => {
    on('/huge', hugeErrorPage(256 * 1024 * 1024));
    const res = await get(`${gw.url}/huge`);
    expect(res.status).toBe(500);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_ERROR');
    await waitFor(() => bigError.closedEarly, 'the upstream response to be cut off', 10_000);
    expect(bigError.finished).toBe(false);
  });

  it('counts masked answers per route and shows the stage in the route chain', async () => {
    const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
    const masked = /breakwater_errors_masked_total\{route="masked"\} (\d+)/.exec(metrics);
    // /boom, four statuses, /small x4, /huge.
    expect(Number(masked?.[1])).toBe(10);
    expect(metrics).toMatch(/breakwater_errors_masked_total\{route="cached"\} 1/);
    expect(metrics).not.toMatch(/breakwater_errors_masked_total\{route="(passes|fallback5xx|dead)"\}/);
    const routes = (await get(`${gw.adminUrl}/admin/routes`)).json<{
      routes: Array<{ name: string; chain: string[] }>;
    }>();
    // (Routes on the cached route's upstream also drop its entries on writes: cache-invalidate.)
    const chain = (name: string) =>
      routes.routes.find((r) => r.name === name)!.chain.filter((k) => k !== 'cache-invalidate');
    expect(chain('masked')).toEqual(['error-mask', 'forward']);
    expect(chain('fallback5xx')).toEqual(['error-mask', 'fallback', 'forward']);
    expect(chain('cached')).toEqual(['error-mask', 'cache', 'forward']);
    expect(chain('passes')).toEqual(['forward']);
  });
});

/**
 * Upstream failures and client limits become the JSON errors of DESIGN.md, at the right
 * time, without leaking anything internal.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import {
  startUpstream,
  refusedPort,
  resetSocket,
  delay,
  hang,
  echo,
  type TestUpstream,
} from '../helpers/upstream';
import { get, rawRequest, statusOf, sleep } from '../helpers/http';

describe('upstream failures and limits', () => {
  let reset: TestUpstream;
  let slow: TestUpstream;
  let hanging: TestUpstream;
  let ok: TestUpstream;
  let closedByGateway: number[] = [];
  let gw: TestGateway;
  let deadPort: number;

  beforeAll(async () => {
    deadPort = await refusedPort();
    [reset, slow, ok] = await Promise.all([
      startUpstream(resetSocket()),
      startUpstream(delay(2000)),
      startUpstream(echo()),
    ]);
    hanging = await startUpstream(hang(() => closedByGateway.push(Date.now())));
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { maxBodySize: 1kb, maxHeaderSize: 2kb }
upstreams:
  dead: { targets: ["http://127.0.0.1:${deadPort}"] }
  reset: { targets: ["${reset.url}"] }
  slow: { targets: ["${slow.url}"] }
  hanging: { targets: ["${hanging.url}"] }
  ok: { targets: ["${ok.url}"] }
routes:
  - { name: dead, match: { pathPrefix: /dead }, upstream: dead }
  - { name: reset, match: { pathPrefix: /reset }, upstream: reset }
  - { name: slow, match: { pathPrefix: /slow }, upstream: slow, timeout: 300ms }
  - { name: hanging, match: { pathPrefix: /hang }, upstream: hanging }
  - { name: ok, match: { pathPrefix: /ok }, upstream: ok }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([reset.close(), slow.close(), hanging.close(), ok.close()]);
  });

  function expectErrorBody(res: { text: string; headers: Record<string, unknown> }, code: string) {
    const body = JSON.parse(res.text) as { error: Record<string, unknown> };
    expect(body.error.code).toBe(code);
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
    expect(res.text).not.toMatch(/127\.0\.0\.1|ECONN|at .*\.js|Error:/);
  }

  it('answers 502 UPSTREAM_UNAVAILABLE when the connection is refused', async () => {
    const res = await get(`${gw.url}/dead`);
    expect(res.status).toBe(502);
    expectErrorBody(res, 'UPSTREAM_UNAVAILABLE');
    const line = gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line).toMatchObject({ status: 502, reason: 'connect_error', upstream: 'dead' });
  });

  it('answers 502 UPSTREAM_UNAVAILABLE when the upstream resets the connection', async () => {
    const res = await get(`${gw.url}/reset`);
    expect(res.status).toBe(502);
    expectErrorBody(res, 'UPSTREAM_UNAVAILABLE');
    expect(reset.hits).toBeGreaterThanOrEqual(1);
  });

  // The slow upstream answers after 2 s: a 504 well before that is the deadline's, not the
  // upstream's; 3x the 300 ms deadline is the slack a loaded 2-core machine needs.
  it('answers 504 UPSTREAM_TIMEOUT at the route deadline, not before it and long before the upstream', async () => {
    const started = performance.now();
    const res = await get(`${gw.url}/slow`);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expectErrorBody(res, 'UPSTREAM_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(900);
  });

  it('applies a default deadline when the route sets none', () => {
    expect(gw.gateway.table.routes.find((r) => r.name === 'ok')!.config.timeoutMs).toBe(30_000);
  });

  it('cancels the upstream request when the client disconnects', async () => {
    closedByGateway = [];
    const controller = new AbortController();
    const pending = request(`${gw.url}/hang`, { signal: controller.signal }).catch(() => undefined);
    await waitFor(() => hanging.hits === 1);
    const abortedAt = Date.now();
    controller.abort();
    await pending;
    await waitFor(() => closedByGateway.length === 1);
    expect(closedByGateway[0]! - abortedAt).toBeLessThan(200);
    await waitFor(() => gw.accessLines().some((l) => l.route === 'hanging'));
    expect(gw.accessLines().find((l) => l.route === 'hanging')).toMatchObject({
      status: 499,
      reason: 'client_closed',
    });
  });

  it('answers 413 BODY_TOO_LARGE for a declared Content-Length over the limit, without contacting the upstream', async () => {
    const before = ok.hits;
    const res = await request(`${gw.url}/ok`, { method: 'POST', body: Buffer.alloc(2048) });
    expect(res.statusCode).toBe(413);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    expect(ok.hits).toBe(before);
  });

  it('answers 413 when a chunked body grows past the limit', async () => {
    const head = 'POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = `800\r\n${'a'.repeat(0x800)}\r\n`;
    const reply = await rawRequest(gw.port, head + chunk + '0\r\n\r\n');
    expect(statusOf(reply)).toBe(413);
    expect(reply).toContain('BODY_TOO_LARGE');
  });

  it('refuses Expect: 100-continue uploads over the limit before the body is sent', async () => {
    const reply = await rawRequest(
      gw.port,
      'PUT /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(statusOf(reply)).toBe(413);
  });

  it('answers 431 HEADERS_TOO_LARGE for headers over maxHeaderSize', async () => {
    const before = ok.hits;
    const reply = await rawRequest(
      gw.port,
      `GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(4096)}\r\n\r\n`,
    );
    expect(statusOf(reply)).toBe(431);
    expect(reply).toContain('"code":"HEADERS_TOO_LARGE"');
    expect(ok.hits).toBe(before);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

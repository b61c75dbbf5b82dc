/**
 * Static fallback responses replace the gateway's errors (and, when asked, upstream 5xx).
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, refusedPort, respond, delay, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

describe('static fallback', () => {
  let failing: TestUpstream;
  let slow: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    const dead = await refusedPort();
    [failing, slow] = await Promise.all([
      startUpstream(respond(500, 'upstream broke')),
      startUpstream(delay(1000)),
    ]);
    gw = await startGateway(`
upstreams:
  dead: { targets: ["http://127.0.0.1:${dead}"] }
  failing: { targets: ["${failing.url}"] }
  slow: { targets: ["${slow.url}"] }
routes:
  - name: dead
    match: { pathPrefix: /dead }
    upstream: dead
    fallback: { status: 200, headers: { content-type: application/json }, body: '{"items":[],"degraded":true}' }
  - name: slow
    match: { pathPrefix: /slow }
    upstream: slow
    timeout: 200ms
    fallback: { body: 'try later' }
  - name: fivexx
    match: { pathPrefix: /fivexx }
    upstream: failing
    fallback: { status: 503, body: 'replaced', on: [5xx] }
  - name: keep5xx
    match: { pathPrefix: /keep5xx }
    upstream: failing
    fallback: { body: 'not used' }
`);
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([failing.close(), slow.close()]);
  });

  it('serves the fallback when the upstream is unavailable', async () => {
    const res = await get(`${gw.url}/dead/items`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ items: [], degraded: true });
    expect(res.headers['x-request-id']).toBeDefined();
    const line = gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line).toMatchObject({ status: 200, reason: 'fallback_unavailable' });
  });

  it('serves the fallback (503 with Retry-After by default) at the deadline', async () => {
    const started = performance.now();
    const res = await get(`${gw.url}/slow`);
    expect(res.status).toBe(503);
    expect(res.text).toBe('try later');
    expect(res.headers['retry-after']).toBe('1');
    expect(performance.now() - started).toBeLessThan(600);
  });

  it('replaces upstream 5xx only when `on` includes 5xx', async () => {
    const replaced = await get(`${gw.url}/fivexx`);
    expect(replaced.status).toBe(503);
    expect(replaced.text).toBe('replaced');
    const kept = await get(`${gw.url}/keep5xx`);
    expect(kept.status).toBe(500);
    expect(kept.text).toBe('upstream broke');
  });

  it('counts fallbacks by trigger', async () => {
    const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(metrics).toMatch(/breakwater_fallbacks_total\{route="dead",trigger="unavailable"\} 1/);
    expect(metrics).toMatch(/breakwater_fallbacks_total\{route="slow",trigger="timeout"\} 1/);
    expect(metrics).toMatch(/breakwater_fallbacks_total\{route="fivexx",trigger="5xx"\} 1/);
  });
});

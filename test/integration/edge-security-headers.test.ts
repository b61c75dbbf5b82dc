/**
 * securityHeaders: on proxied answers, on the gateway's own 404 (before any route) and 503, as a
 * server default that routes inherit, tune or turn off; HSTS only behind a trusted https proxy.
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { delay, respond, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';

const BANNERS = { server: 'nginx/1.25.3', 'x-powered-by': 'Express', 'x-frame-options': 'SAMEORIGIN' };

describe('securityHeaders', () => {
  let app: TestUpstream;
  let slow: TestUpstream;
  let gw: TestGateway;
  let untrusted: TestGateway;

  const yaml = (trustProxy: string) => `
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  trustProxy: [${trustProxy}]
  overload: { maxEventLoopDelay: 0 }   # a cold jest worker lags at start; shedding is not under test
  securityHeaders: true
upstreams:
  app: { targets: ["${app.url}"] }
  slow: { targets: ["${slow.url}"] }
routes:
  - name: custom
    match: { pathPrefix: /custom }
    upstream: app
    securityHeaders: { frameOptions: SAMEORIGIN, referrerPolicy: strict-origin-when-cross-origin, hsts: false }
  - name: off
    match: { pathPrefix: /off }
    upstream: app
    securityHeaders: false
  - name: capped
    match: { pathPrefix: /capped }
    upstream: slow
    maxConcurrent: 1
  - name: inherited
    match: { pathPrefix: /app }
    upstream: app
`;

  beforeAll(async () => {
    [app, slow] = await Promise.all([
      startUpstream(
        respond(200, 'hello', {
          'content-type': 'text/plain',
          server: 'nginx/1.25.3',
          'x-powered-by': 'Express',
        }),
      ),
      startUpstream(delay(300)),
    ]);
    [gw, untrusted] = await Promise.all([startGateway(yaml('127.0.0.1')), startGateway(yaml('10.9.9.9'))]);
  });
  afterAll(async () => {
    await Promise.all([gw.close(), untrusted.close()]);
    await Promise.all([app.close(), slow.close()]);
  });

  it('adds the defaults to a proxied answer and strips the software banners', async () => {
    const res = await get(`${gw.url}/app/x`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('hello');
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(res.headers.server).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    // Plain http: HSTS would be ignored by browsers, and is not sent.
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('keeps a value the upstream set on purpose', async () => {
    const up = await startUpstream(respond(200, 'x', BANNERS));
    const g = await startGateway(`
upstreams:
  u: { targets: ["${up.url}"] }
routes:
  - { name: r, upstream: u, securityHeaders: true }
`);
    try {
      const res = await get(`${g.url}/`);
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers.server).toBeUndefined();
    } finally {
      await g.close();
      await up.close();
    }
  });

  it('sends HSTS when a trusted proxy says the request came over https', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const trusted = await get(`${gw.url}/app/x`, https);
    expect(trusted.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const notTrusted = await get(`${untrusted.url}/app/x`, https);
    expect(notTrusted.headers['strict-transport-security']).toBeUndefined();
    expect(notTrusted.headers['x-content-type-options']).toBe('nosniff');
  });

  it('decorates the 404 of a request no route matches (server default)', async () => {
    const res = await get(`${gw.url}/nowhere`, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(404);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('NO_ROUTE');
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    });
  });

  it("decorates the gateway's own 503", async () => {
    const first = get(`${gw.url}/capped/1`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shed = await get(`${gw.url}/capped/2`);
    expect(shed.status).toBe(503);
    expect(shed.json<{ error: { code: string } }>().error.code).toBe('OVERLOADED');
    expect(shed.headers['x-content-type-options']).toBe('nosniff');
    expect(shed.headers['x-frame-options']).toBe('DENY');
    expect((await first).status).toBe(200);
  });

  it('lets a route tune the server default or turn it off', async () => {
    const custom = await get(`${gw.url}/custom/x`, { 'x-forwarded-proto': 'https' });
    expect(custom.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'strict-origin-when-cross-origin',
    });
    expect(custom.headers['strict-transport-security']).toBeUndefined();
    const off = await get(`${gw.url}/off/x`);
    expect(off.headers['x-content-type-options']).toBeUndefined();
    expect(off.headers.server).toBe('nginx/1.25.3');
  });

  it('lists the stage in the route chain', () => {
    const chains = Object.fromEntries(gw.gateway.table.routes.map((r) => [r.name, r.chain]));
    expect(chains.inherited).toEqual(['security-headers', 'forward']);
    expect(chains.off).toEqual(['forward']);
  });
});

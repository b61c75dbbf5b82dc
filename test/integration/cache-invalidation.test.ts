/**
 * A write matched by a route without `cache:` still invalidates what a cached route stored for
 * the same URL (RFC 9111 §4.4): the common split of cached GETs and uncached writes.
 */
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';

describe('cache invalidation from uncached routes', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let version = 1;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      if (req.method === 'POST') {
        version++;
        res.writeHead(201, { location: '/items/7' });
        return void res.end();
      }
      res.writeHead(200, { 'cache-control': 'max-age=300', 'content-type': 'text/plain' });
      res.end(`v${version}`);
    });
    gw = await startGateway(`
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - name: reads
    match: { pathPrefix: /items, methods: [GET, HEAD] }
    upstream: up
    cache: { ttl: 1m }
  - name: writes
    match: { pathPrefix: /items, methods: [POST, PUT, PATCH, DELETE] }
    upstream: up
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const read = async (path: string) => {
    const res = await request(`${gw.url}${path}`);
    return { body: await res.body.text(), status: res.headers['cache-status'] as string };
  };

  it('drops the cached copy when another route answers a write to the same URL', async () => {
    expect((await read('/items/7')).body).toBe('v1');
    expect((await read('/items/7')).status).toMatch(/hit/);
    const hits = up.hits;
    const post = await request(`${gw.url}/items/7`, { method: 'POST', body: 'x' });
    await post.body.dump();
    expect(post.statusCode).toBe(201);
    expect(up.hits).toBe(hits + 1);
    const after = await read('/items/7');
    expect(after.body).toBe('v2');
    expect(after.status).toMatch(/fwd=miss/);
  });

  it('puts the invalidate-only stage on the uncached routes only', () => {
    const chain = (name: string) => gw.gateway.table.routes.find((r) => r.name === name)!.chain;
    expect(chain('writes')).toContain('cache-invalidate');
    expect(chain('reads')).toContain('cache');
    expect(chain('reads')).not.toContain('cache-invalidate');
  });
});

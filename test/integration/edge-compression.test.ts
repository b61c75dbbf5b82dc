/**
 * compression: gzip and br bodies decode back to what the upstream sent; small, already
 * encoded, no-transform, binary and HEAD answers pass untouched; Vary: Accept-Encoding; and a
 * slow client holds a 50 MB upstream body back instead of the gateway buffering it.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  createBrotliDecompress,
  gunzipSync,
  gzipSync,
} from 'node:zlib';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type Behaviour, type TestUpstream } from '../helpers/upstream';
import { sleep } from '../helpers/http';

const TEXT = Buffer.from('{"items":[' + '{"id":1,"name":"breakwater"},'.repeat(800) + '{}]}');
const BIG_BYTES = 50 * 1024 * 1024;

/** Upstream bytes handed to the socket for /big (with backpressure: write() false waits for drain). */
let bigSent = 0;

function streamBig(res: ServerResponse): void {
  // Random and longer than brotli's 1 MB window: incompressible, so the compressed side is as
  // big as this and a slow client really has bytes to hold back (br: about 100 MB/s here).
  const block = randomBytes(2 * 1024 * 1024);
  bigSent = 0;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BIG_BYTES });
  const pump = (): void => {
    while (bigSent < BIG_BYTES) {
      bigSent += block.length;
      if (!res.write(block)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const behaviour: Behaviour = (req, res) => {
  req.resume();
  const json = { 'content-type': 'application/json' };
  switch (req.url) {
    case '/json':
      res.writeHead(200, { ...json, 'content-length': TEXT.length, etag: '"v1"', 'accept-ranges': 'bytes' });
      return void res.end(req.method === 'HEAD' ? undefined : TEXT);
    case '/chunked':
      res.writeHead(200, json);
      res.write(TEXT.subarray(0, 100));
      return void setTimeout(() => res.end(TEXT.subarray(100)), 20);
    case '/small':
      res.writeHead(200, { ...json, 'content-length': 10 });
      return void res.end('{"ok":true}'.slice(0, 10));
    case '/encoded': {
      const gz = gzipSync(TEXT);
      res.writeHead(200, { ...json, 'content-encoding': 'gzip', 'content-length': gz.length });
      return void res.end(gz);
    }
    case '/no-transform':
      res.writeHead(200, { ...json, 'cache-control': 'public, no-transform', 'content-length': TEXT.length });
      return void res.end(TEXT);
    case '/png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': TEXT.length });
      return void res.end(TEXT);
    case '/big':
      return streamBig(res);
    default:
      res.writeHead(404, { 'content-length': 0 });
      res.end();
  }
};

/** What the gateway's br encoder makes at `quality` (text mode, a 1 MB window). */
const brotli = (body: Buffer, quality: number) =>
  brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_LGWIN]: 20,
    },
  });

describe('compression', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream(behaviour);
    gw = await startGateway(`
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: app
    upstream: app
    timeout: 60s
    compression: { minSize: 1kb }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const fetchRaw = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const res = await request(`${gw.url}${path}`, { method: method as 'GET', headers });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };

  it.each([
    ['gzip', 'gzip', gunzipSync],
    ['gzip, deflate, br', 'br', brotliDecompressSync],
    ['br;q=0.5, gzip;q=0.8', 'gzip', gunzipSync],
  ] as const)('Accept-Encoding %j → %s, decoding to the original', async (accept, coding, decode) => {
    const res = await fetchRaw('/json', { 'accept-encoding': accept });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe(coding);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['accept-ranges']).toBeUndefined();
    expect(res.headers.vary).toBe('Accept-Encoding');
    // Another representation than the upstream's: its strong validator becomes weak.
    expect(res.headers.etag).toBe('W/"v1"');
    expect(res.body.length).toBeLessThan(TEXT.length / 5);
    expect(decode(res.body).equals(TEXT)).toBe(true);
    const line = gw.accessLines().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line?.bytes).toBe(res.body.length);
  });

  it('compresses a body of unknown length', async () => {
    const res = await fetchRaw('/chunked', { 'accept-encoding': 'gzip' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.body).equals(TEXT)).toBe(true);
  });

  it('sends identity (with Vary) to a client that accepts no coding', async () => {
    const res = await fetchRaw('/json');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(TEXT.length));
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.equals(TEXT)).toBe(true);
  });

  it('compresses at gzip level 6 and br quality 4 unless told otherwise', async () => {
    const gz = await fetchRaw('/json', { 'accept-encoding': 'gzip' });
    expect(gz.body.equals(gzipSync(TEXT, { level: 6 }))).toBe(true);
    const br = await fetchRaw('/json', { 'accept-encoding': 'br' });
    expect(br.body.equals(brotli(TEXT, 4))).toBe(true);
  });

  it.each([
    ['below minSize', '/small', 'GET'],
    ['already encoded upstream', '/encoded', 'GET'],
    ['Cache-Control: no-transform', '/no-transform', 'GET'],
    ['a binary type', '/png', 'GET'],
    ['HEAD', '/json', 'HEAD'],
  ])('leaves %s untouched', async (_name, path, method) => {
    const direct = await request(`${up.url}${path}`, { method: method as 'GET' });
    const expected = Buffer.from(await direct.body.arrayBuffer());
    const res = await fetchRaw(path, { 'accept-encoding': 'gzip, br' }, method);
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe(direct.headers['content-encoding']);
    expect(res.headers['content-length']).toBe(direct.headers['content-length']);
    expect(res.body.equals(expected)).toBe(true);
  });

  it('holds a 50 MB upstream body back while the client reads slowly (bounded memory)', async () => {
    const res = await request(`${gw.url}/big`, { headers: { 'accept-encoding': 'br' } });
    expect(res.headers['content-encoding']).toBe('br');
    // A client that does not read for a while: the gateway must stop reading the upstream too.
    const rssBefore = process.memoryUsage().rss;
    await sleep(1500);
    const aheadWhilePaused = bigSent;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    const decoder = createBrotliDecompress();
    let decoded = 0;
    decoder.on('data', (chunk: Buffer) => (decoded += chunk.length));
    const ended = new Promise((resolve) => decoder.on('end', resolve));
    for await (const chunk of res.body as AsyncIterable<Buffer>)
      if (!decoder.write(chunk)) await new Promise((resolve) => decoder.once('drain', resolve));
    decoder.end();
    await ended;
    expect(decoded).toBe(BIG_BYTES);
    // Socket buffers on both hops plus the streams' high-water marks, far from the 50 MB body.
    expect(aheadWhilePaused).toBeLessThan(24 * 1024 * 1024);
    expect(rssGrowth).toBeLessThan(48 * 1024 * 1024);
  });
});

describe('compression level', () => {
  let up: TestUpstream;
  let gw: TestGateway | undefined;

  beforeAll(async () => {
    up = await startUpstream(behaviour);
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  afterAll(() => up.close());

  const fetchBody = async (path: string, accept: string) => {
    const res = await request(`${gw!.url}${path}`, { headers: { 'accept-encoding': accept } });
    return { headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };

  it('level sets the gzip level and brQuality the br quality, per route or as the server default', async () => {
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  compression: { minSize: 1kb, level: 1, brQuality: 0 }
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: best
    match: { pathPrefix: /best }
    upstream: app
    rewrite: { stripPrefix: /best }
    compression: { minSize: 1kb, level: 9, brQuality: 11 }
  - name: app
    upstream: app
`);
    const fast = await fetchBody('/json', 'gzip');
    expect(fast.headers['content-encoding']).toBe('gzip');
    expect(fast.body.equals(gzipSync(TEXT, { level: 1 }))).toBe(true);
    expect(fast.body.equals(gzipSync(TEXT, { level: 6 }))).toBe(false);
    const best = await fetchBody('/best/json', 'gzip');
    expect(best.body.equals(gzipSync(TEXT, { level: 9 }))).toBe(true);
    expect(best.body.length).toBeLessThan(fast.body.length);
    expect((await fetchBody('/json', 'br')).body.equals(brotli(TEXT, 0))).toBe(true);
    const bestBr = await fetchBody('/best/json', 'br');
    expect(bestBr.headers['content-encoding']).toBe('br');
    expect(bestBr.body.equals(brotli(TEXT, 11))).toBe(true);
    expect(brotliDecompressSync(bestBr.body).equals(TEXT)).toBe(true);
  });

  it('refuses a level outside 1-9 and a quality outside 0-11, at the line', async () => {
    const config = (block: string) => `
upstreams:
  app: { targets: ["${up.url}"] }
routes:
  - name: app
    upstream: app
    compression: ${block}
`;
    await expect(startGateway(config('{ level: 0 }'))).rejects.toThrow(
      /:8:27: routes\[0\]\.compression\.level: .*1/,
    );
    await expect(startGateway(config('{ level: 10, brQuality: 12 }'))).rejects.toThrow(
      /routes\[0\]\.compression\.brQuality/,
    );
  });
});

/**
 * Upstreams that fail mid-way: a response cut off after its head, a hang after the head, a
 * garbage answer, a keep-alive connection closed as a request goes out, a name that does not
 * resolve. The client always gets an answer or a visibly truncated response (never a hang), the
 * access line names what happened, a POST is never sent twice, and no descriptor leaks.
 */
import type { Socket } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/wait';
import { send } from '../hostile/harness';
import { fdCount, fdsBackTo, rawUpstream, type RawUpstream } from './helpers';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('faults: upstreams failing mid-way', () => {
  const ups: Record<string, RawUpstream> = {};
  let gw: TestGateway;
  let baseline: number;

  beforeAll(async () => {
    const scripts: Record<
      string,
      (req: { url: string; method: string; onConnection: number }, s: Socket) => void
    > = {
      // Content-Length 100, 40 bytes, then the connection closes.
      short: (_r, s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + 'a'.repeat(40));
        s.destroy();
      },
      // Chunked, one chunk, then the connection closes without the terminating chunk.
      unterminated: (_r, s) => {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        setTimeout(() => s.destroy(), 20);
      },
      // The head and a few bytes, then nothing at all.
      stall: (_r, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'),
      garbage: (req, s) => {
        const answers: Record<string, string> = {
          '/garbage/line': 'I AM NOT HTTP\r\n\r\n',
          '/garbage/status': 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
          '/garbage/version': 'HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n',
          '/garbage/header': 'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n',
          '/garbage/nul': 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n',
          '/garbage/cl-te':
            'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          '/garbage/two-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
          '/garbage/empty': '',
        };
        s.end(answers[req.url] ?? OK);
      },
      // Keep-alive race: a warm-up or the first request on a connection is answered (kept alive);
      // any other request on a reused connection arrives as the upstream closes it, unanswered.
      race: (req, s) => (req.onConnection === 0 || req.url.endsWith('/warm') ? s.write(OK) : s.destroy()),
    };
    for (const [name, script] of Object.entries(scripts)) ups[name] = await rawUpstream(script);
    gw = await startGateway(`
upstreams:
${Object.entries(ups)
  .map(([name, up]) => `  ${name}: { targets: ["${up.url}"] }`)
  .join('\n')}
  nowhere: { targets: ["http://nonexistent.invalid:80"], connect: { timeout: 2s } }
routes:
${Object.keys(ups)
  .filter((name) => name !== 'race' && name !== 'stall')
  .map((name) => `  - { name: ${name}, match: { pathPrefix: /${name} }, upstream: ${name} }`)
  .join('\n')}
  - { name: stall, match: { pathPrefix: /stall }, upstream: stall, timeout: 500ms }
  - { name: race-retry, match: { pathPrefix: /race-retry }, upstream: race, retry: { attempts: 2, backoff: { base: 1ms, max: 5ms } } }
  - { name: race, match: { pathPrefix: /race }, upstream: race }
  - { name: nowhere, match: { pathPrefix: /nowhere }, upstream: nowhere }
`);
    baseline = fdCount();
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(ups).map((u) => u.close()));
  });
  afterEach(async () => {
    await fdsBackTo(baseline);
    const ok = await send(gw.port, 'GET /garbage/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(ok.status).toBe(200);
  });

  const accessLine = (path: string) =>
    gw
      .accessLines()
      .filter((l) => l.path === path)
      .at(-1);

  it('upstream closes mid-body (Content-Length): the client gets the head and 40 of 100 bytes, then a close', async () => {
    const reply = await send(gw.port, 'GET /short HTTP/1.1\r\nHost: x\r\n\r\n', { untilClose: true });
    expect(reply.closed).toBe(true);
    expect(reply.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply.raw).toMatch(/\r\ncontent-length: 100\r\n/i);
    const body = reply.raw.slice(reply.raw.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBeLessThan(100);
    await waitFor(() => accessLine('/short') !== undefined, 'the access line');
    expect(accessLine('/short')).toMatchObject({ status: 200, reason: 'upstream_reset_after_headers' });
    expect(accessLine('/short')!.bytes).toBeLessThan(100);
  });

  it('upstream closes mid-body (chunked): the client sees no terminating chunk, then a close', async () => {
    const reply = await send(gw.port, 'GET /unterminated HTTP/1.1\r\nHost: x\r\n\r\n', { untilClose: true });
    expect(reply.closed).toBe(true);
    expect(reply.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply.raw).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    expect(reply.raw).toContain('hello');
    expect(reply.raw.endsWith('0\r\n\r\n')).toBe(false);
    await waitFor(() => accessLine('/unterminated') !== undefined, 'the access line');
    expect(accessLine('/unterminated')).toMatchObject({
      status: 200,
      reason: 'upstream_reset_after_headers',
    });
  });

  it('upstream hangs after its head: the route timeout (500 ms) cuts the body off', async () => {
    const started = performance.now();
    const reply = await send(gw.port, 'GET /stall HTTP/1.1\r\nHost: x\r\n\r\n', {
      untilClose: true,
      timeoutMs: 10_000,
    });
    const tookMs = performance.now() - started;
    expect(reply.closed).toBe(true);
    expect(reply.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply.raw.slice(reply.raw.indexOf('\r\n\r\n') + 4)).toBe('abc');
    expect(tookMs).toBeGreaterThan(450);
    expect(tookMs).toBeLessThan(500 * 3);
    await waitFor(() => accessLine('/stall') !== undefined, 'the access line');
    expect(accessLine('/stall')).toMatchObject({ status: 200, bytes: 3 });
    expect(accessLine('/stall')!.reason).toBe('upstream_timeout_after_headers');
  });

  it.each([
    ['a garbage status line', '/garbage/line'],
    ['a four-digit status', '/garbage/status'],
    ['HTTP/9.9', '/garbage/version'],
    ['a space in a header name', '/garbage/header'],
    ['a NUL in a header value', '/garbage/nul'],
    ['Content-Length with Transfer-Encoding', '/garbage/cl-te'],
    ['two different Content-Lengths', '/garbage/two-cl'],
    ['no answer at all (closed)', '/garbage/empty'],
  ])('invalid HTTP from the upstream (%s) → 502 UPSTREAM_UNAVAILABLE', async (_name, path) => {
    const reply = await send(gw.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(reply.status).toBe(502);
    expect(reply.raw).toContain('"code":"UPSTREAM_UNAVAILABLE"');
    expect(reply.raw).not.toMatch(/127\.0\.0\.1|HPE_|Error:/);
  });

  describe('keep-alive race (the upstream closes a reused connection as the request goes out)', () => {
    async function warmThen(path: string, method: string) {
      const before = ups.race!.requests.length;
      const warm = await send(gw.port, 'GET /race/warm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(warm.status).toBe(200);
      const body = method === 'POST' ? 'Content-Length: 5\r\n\r\nhello' : '\r\n';
      const reply = await send(
        gw.port,
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${body}`,
      );
      const sent = ups.race!.requests.slice(before + 1).filter((r) => r.url === path);
      return { reply, sent };
    }

    it('an idempotent GET on a route with retry is retried on a fresh connection: 200', async () => {
      const { reply, sent } = await warmThen('/race-retry/get', 'GET');
      expect(reply.status).toBe(200);
      expect(sent).toHaveLength(2);
      expect(sent[0]!.onConnection).toBeGreaterThan(0);
      expect(sent[1]!.onConnection).toBe(0);
    });

    it('a POST is never sent twice: 502, and the upstream received it exactly once', async () => {
      const { reply, sent } = await warmThen('/race-retry/post', 'POST');
      expect(reply.status).toBe(502);
      // Another request later: still only one POST ever arrived.
      await send(gw.port, 'GET /garbage/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(ups.race!.requests.filter((r) => r.url === '/race-retry/post')).toHaveLength(1);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.onConnection).toBeGreaterThan(0);
    });

    it('without a retry block a GET is answered 502 after one try (no silent replay)', async () => {
      const { reply, sent } = await warmThen('/race/get', 'GET');
      expect(reply.status).toBe(502);
      expect(sent).toHaveLength(1);
    });
  });

  it('an unresolvable target (nonexistent.invalid) → 502 within the connect timeout, no crash', async () => {
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const reply = await send(gw.port, 'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
        timeoutMs: 10_000,
      });
      expect(reply.status).toBe(502);
      expect(reply.raw).toContain('"code":"UPSTREAM_UNAVAILABLE"');
      expect(reply.raw).not.toMatch(/invalid|ENOTFOUND|EAI_/);
      expect(performance.now() - started).toBeLessThan(2000 * 3);
    }
    expect(accessLine('/nowhere')).toMatchObject({ status: 502, reason: 'connect_error' });
  });
});

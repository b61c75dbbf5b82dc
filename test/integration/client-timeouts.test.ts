/**
 * Slow clients: headersTimeout and requestTimeout are enforced on time (Node alone checks them
 * every 30 s, so a slowloris client used to get its 408 up to 30 s late), with nothing upstream.
 */
import { connect } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { statusOf } from '../helpers/http';

/** Writes `head` then `drip` one byte every `everyMs`; resolves with the reply and when it came. */
function slowClient(port: number, head: string, drip: string, everyMs: number) {
  return new Promise<{ reply: string; afterMs: number }>((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!);
    }, everyMs);
    socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ reply, afterMs: performance.now() - started });
    });
    socket.write(head);
  });
}

describe('client timeouts', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { headersTimeout: 1s, requestTimeout: 2s }
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - { name: all, upstream: up }
`);
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('slowloris headers: 408 about headersTimeout after the connection opened', async () => {
    const { reply, afterMs } = await slowClient(
      gw.port,
      'GET / HTTP/1.1\r\n',
      'X-Slow: ' + 'a'.repeat(100),
      100,
    );
    expect(statusOf(reply)).toBe(408);
    expect(afterMs).toBeGreaterThan(900);
    expect(afterMs).toBeLessThan(3000 * 1.5);
    expect(up.hits).toBe(0);
  });

  it('slow body: 408 about requestTimeout after the request started', async () => {
    const hits = up.hits;
    const head = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n';
    const { reply, afterMs } = await slowClient(gw.port, head, 'b'.repeat(100), 100);
    // The body streams upstream as it arrives, so the upstream may have seen the request start.
    expect(up.hits - hits).toBeLessThanOrEqual(1);
    expect(afterMs).toBeGreaterThan(1900);
    expect(afterMs).toBeLessThan(6000 * 1.5);
    expect(reply === '' || statusOf(reply) === 408).toBe(true);
  });
});

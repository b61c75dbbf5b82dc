/**
 * HTTP/1.1 pipelining: a connection's requests are handled one at a time, so a client cannot
 * turn one connection into hundreds of concurrent upstream requests (nginx and HAProxy: one).
 */
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { rawRequest } from '../helpers/http';

describe('pipelined requests', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let concurrent = 0;
  let maxConcurrent = 0;

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      setTimeout(() => {
        concurrent--;
        res.end(`${req.url}|`);
      }, 5);
    });
    gw = await startGateway(`
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

  it('200 pipelined GETs on one connection: one upstream request at a time, answers in order', async () => {
    const count = 200;
    let payload = '';
    for (let i = 0; i < count; i++) {
      payload += `GET /r${i} HTTP/1.1\r\nHost: x\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    const reply = await rawRequest(gw.port, payload, 20_000);
    const bodies = [...reply.matchAll(/\/r(\d+)\|/g)].map((m) => Number(m[1]));
    expect(bodies).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(maxConcurrent).toBe(1);
    // undici may open a second keep-alive connection while it settles the first; never 200.
    expect(up.connections).toBeLessThanOrEqual(2);
  });
});

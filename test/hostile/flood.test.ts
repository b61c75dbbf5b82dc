/**
 * Hostile clients over time: a body that stops half way (408, the upstream sees nothing or an
 * aborted request) and floods of pipelined requests on one connection (answered in order, one
 * upstream request at a time, and a client that never reads stops being read: bounded memory).
 */
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IncomingMessage } from 'node:http';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { codeOf, expectHealthy, send, snapshot } from './harness';

// A full collection before each heap reading, so the check measures what the flood retains, not
// garbage a lazier GC (Node 24 and 26 collect later than 20) has not reclaimed yet.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** An upstream that records whether each request body ended or was cut off. */
async function recordingUpstream() {
  const outcomes: { bytes: number; ended: boolean; closed: boolean }[] = [];
  const up = await startUpstream((req: IncomingMessage, res) => {
    const outcome = { bytes: 0, ended: false, closed: false };
    outcomes.push(outcome);
    req.on('data', (chunk: Buffer) => (outcome.bytes += chunk.length));
    req.on('end', () => {
      outcome.ended = true;
      res.end('ok');
    });
    req.on('close', () => (outcome.closed = true));
  });
  return { up, outcomes };
}

describe('hostile: a body that stops half way', () => {
  const gateways: TestGateway[] = [];
  const upstreams: TestUpstream[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(upstreams.map((u) => u.close()));
  });

  async function setUp(requestBuffer: string) {
    const { up, outcomes } = await recordingUpstream();
    const gw = await startGateway(`
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { headersTimeout: 1s, requestTimeout: 1s, requestBuffer: ${requestBuffer} }
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - { name: all, upstream: up }
`);
    gateways.push(gw);
    upstreams.push(up);
    return { up, outcomes, gw };
  }

  const halfBody = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n' + 'a'.repeat(50);

  it('within requestBuffer: 408 about requestTimeout later, and the upstream sees nothing', async () => {
    const { up, gw } = await setUp('64kb');
    const before = snapshot([up]);
    const started = performance.now();
    const reply = await send(gw.port, halfBody, { untilClose: true, timeoutMs: 10_000 });
    const tookMs = performance.now() - started;
    expect(reply.status).toBe(408);
    expect(codeOf(reply)).toBe('REQUEST_TIMEOUT');
    expect(tookMs).toBeGreaterThan(900);
    expect(tookMs).toBeLessThan(1500 * 3);
    expect(up.bytesReceived - before[0]!.bytes).toBe(0);
    expect(up.connections - before[0]!.connections).toBe(0);
    await expectHealthy(gw, before, up);
  });

  it('streamed (requestBuffer: 0): 408, and the upstream request is aborted, never completed', async () => {
    const { outcomes, gw } = await setUp('0');
    const started = performance.now();
    const reply = await send(gw.port, halfBody, { untilClose: true, timeoutMs: 10_000 });
    const tookMs = performance.now() - started;
    // The upstream request had started, so the answer may be the 408 or a closed connection.
    expect([0, 408]).toContain(reply.status);
    expect(tookMs).toBeLessThan(1500 * 3);
    await waitFor(() => outcomes.length === 0 || outcomes[0]!.closed, 'the upstream request to close');
    for (const o of outcomes) {
      expect(o.ended).toBe(false);
      expect(o.bytes).toBeLessThanOrEqual(50);
    }
    const healthy = await send(gw.port, 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(healthy.status).toBe(200);
    expect(outcomes.at(-1)!.ended).toBe(true);
  });
});

describe('hostile: pipelined floods', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let concurrent = 0;
  let maxConcurrent = 0;
  const BIG = Buffer.alloc(32 * 1024, 0x62);

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      req.resume();
      req.on('end', () => {
        concurrent--;
        if (req.url!.startsWith('/big')) res.end(BIG);
        else res.end(`${req.url}|`);
      });
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

  function flood(prefix: string, count: number): string {
    let payload = '';
    for (let i = 0; i < count; i++)
      payload += `GET /${prefix}${i} HTTP/1.1\r\nHost: x\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    return payload;
  }

  it('1,000 pipelined GETs on one connection: all answered in order, one upstream request at a time', async () => {
    const connections = up.connections;
    const heapBefore = retainedHeap();
    const reply = await send(gw.port, flood('r', 1000), { untilClose: true, timeoutMs: 20_000 });
    const order = [...reply.raw.matchAll(/\/r(\d+)\|/g)].map((m) => Number(m[1]));
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(reply.raw.match(/HTTP\/1\.1 200 /g)).toHaveLength(1000);
    expect(maxConcurrent).toBe(1);
    expect(up.connections - connections).toBeLessThanOrEqual(2);
    // Generous: a flood costs what its in-flight request costs, not what 1,000 queued ones would.
    expect(retainedHeap() - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('a client that sends 2,000 requests and never reads is no longer read: bounded, then served in order', async () => {
    const count = 2000;
    const hitsBefore = up.hits;
    const socket = connect(gw.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.pause();
    socket.write(flood('big', count));
    // Backpressure: once the client's socket buffers are full the gateway stops taking requests.
    let last = -1;
    await waitFor(
      async () => {
        const now = up.hits;
        const stable = now === last && now > hitsBefore;
        last = now;
        await new Promise((r) => setTimeout(r, 150));
        return stable;
      },
      'the gateway to stop taking requests from a client that does not read',
      10_000,
    );
    const stalledAt = up.hits - hitsBefore;
    expect(stalledAt).toBeLessThan(count / 2);
    // The client reads again: every answer arrives, in order, 32 KB each.
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.resume();
    await closed;
    expect(up.hits - hitsBefore).toBe(count);
    expect(received).toBeGreaterThan(count * BIG.length);
    expect(maxConcurrent).toBe(1);
    await expectHealthy(gw, snapshot([up]), up, '/after-flood');
  });
});

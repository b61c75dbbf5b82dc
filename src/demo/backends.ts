/**
 * @module demo/backends
 * Two small backends for `npm run demo`: `catalog` always answers quickly; `flaky` is slow
 * now and then and fails on a schedule, so the gateway has something to protect against.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** A fast JSON backend. */
export async function startCatalog(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({ service: 'catalog', path: req.url, items: ['anchor', 'buoy', 'rope'] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/**
 * Every 4th request answers 503; every 5th takes 1.5 s; and for 5 s out of every 30 s it
 * resets every connection (health checks included), like a backend restarting.
 */
export async function startFlaky(port: number): Promise<Server> {
  let count = 0;
  const server = createServer((req, res) => {
    const outage = Math.floor(Date.now() / 1000) % 30 < 5;
    if (outage) return void req.socket.destroy();
    // The health endpoint tells the truth: up unless in the outage window.
    if (req.url === '/healthz') return send(res, 200, { status: 'ok' });
    count++;
    if (count % 4 === 0) return send(res, 503, { service: 'flaky', error: 'scheduled failure' });
    const wait = count % 5 === 0 ? 1500 : 20;
    setTimeout(() => send(res, 200, { service: 'flaky', path: req.url, waitedMs: wait }), wait);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function send(res: import('node:http').ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

'use strict';
// Minimal origin on node:http. It is the upload sink behind nginx (nginx-light has no module
// that reads a whole body before answering, and `return 200` answers before the upload is
// read), and the whole upstream when nginx is not installed.
// usage: node node-upstream.js PORT
const http = require('node:http');
const { Buffer } = require('node:buffer');

const HELLO = Buffer.from('Hello, World!');
const BIG = Buffer.alloc(64 * 1024, 'x');

function sink(req, res) {
  let received = 0;
  req.on('data', (chunk) => (received += chunk.length));
  req.on('end', () => {
    const body = JSON.stringify({ received });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

function send(res, body, extra) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, ...extra });
  res.end(body);
}

// Same as nginx's origin: /nostore is the tiny body that no cache may store.
const NO_STORE = { 'cache-control': 'no-store' };

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/upload')) return sink(req, res);
  // Drain any body so the connection stays reusable.
  req.resume();
  if (req.url.startsWith('/64k')) return send(res, BIG);
  send(res, HELLO, req.url.startsWith('/nostore') ? NO_STORE : undefined);
});
// Proxies keep idle upstream connections for up to a minute; match nginx's keepalive_timeout.
server.keepAliveTimeout = 75000;
server.headersTimeout = 80000;
server.listen(Number(process.argv[2]), '127.0.0.1');

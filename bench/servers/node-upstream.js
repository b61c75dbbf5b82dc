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

function send(res, body) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/upload')) return sink(req, res);
  // Drain any body so the connection stays reusable.
  req.resume();
  send(res, req.url.startsWith('/64k') ? BIG : HELLO);
});
// Proxies keep idle upstream connections for up to a minute; match nginx's keepalive_timeout.
server.keepAliveTimeout = 75000;
server.headersTimeout = 80000;
server.listen(Number(process.argv[2]), '127.0.0.1');

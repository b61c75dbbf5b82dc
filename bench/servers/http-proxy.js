'use strict';
// http-proxy 1.18 as a plain reverse proxy. Without an `agent` it sends `Connection: close`
// upstream (a new TCP connection per request), so it gets a keep-alive agent like every peer.
// usage: node http-proxy.js PORT TARGET_URL
const http = require('node:http');
const httpProxy = require('http-proxy');

const [port, target] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target, agent });

proxy.on('error', (_err, _req, res) => {
  if (res.headersSent === false) res.writeHead(502);
  res.end();
});

const server = http.createServer((req, res) => proxy.web(req, res));
// Node's default 5 s would drop idle client connections during the idle-connections scenario.
server.keepAliveTimeout = 75000;
server.headersTimeout = 80000;
server.listen(Number(port), '127.0.0.1');

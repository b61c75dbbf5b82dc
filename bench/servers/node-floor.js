'use strict';
// The "Node floor": the least a Node.js reverse proxy can do per request on this machine.
// node:http in front, one undici Pool behind (keep-alive, 256 connections like breakwater's
// default), one `dispatch()` handler per request that streams the response with backpressure
// (pause when the client socket is full, resume on 'drain'). No routing, no policies, no
// timers, no logs, no metrics: whatever a gateway costs above this row is its own work.
// usage: node node-floor.js PORT TARGET_URL
const http = require('node:http');
const { Pool } = require('undici');

const [port, target] = process.argv.slice(2);
const pool = new Pool(target, { connections: 256, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });

// RFC 9110 §7.6.1: connection-specific fields are not forwarded, in either direction.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

class Forward {
  constructor(req, res) {
    this.res = res;
    this.controller = null;
    this.started = false;
    this.done = false;
    // Client gone before the response is complete: stop the upstream request.
    res.on('close', () => {
      if (!this.done && this.controller) this.controller.abort(new Error('client closed'));
    });
  }

  onRequestStart(controller) {
    this.controller = controller;
  }

  onResponseStart(controller, statusCode, headers) {
    this.started = true;
    this.res.writeHead(statusCode, forwardable(headers));
  }

  onResponseData(controller, chunk) {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd() {
    this.done = true;
    this.res.end();
  }

  onResponseError(controller, err) {
    this.done = true;
    if (this.started) return this.res.destroy(err); // head is out: a truncated response is all that is left
    this.res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 11 });
    this.res.end('Bad Gateway');
  }
}

const server = http.createServer((req, res) => {
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.dispatch(
    { method: req.method, path: req.url, headers: forwardable(req.headers), body: hasBody ? req : null },
    new Forward(req, res),
  );
});
// Same as the other Node peers (the idle-connections scenario needs more than Node's 5 s).
server.keepAliveTimeout = 75000;
server.headersTimeout = 80000;
server.listen(Number(port), '127.0.0.1');

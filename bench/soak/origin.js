'use strict';
// The soak's origin: a node:http server with a fault switch, and a WebSocket echo on upgrades
// (a minimal RFC 6455 server, so the bench needs no `ws` dependency).
//
//   node bench/soak/origin.js PORT CONTROL_PORT
//
// Traffic port: every GET answers 200 with a small JSON body (/cached/* a 2 KB one), unless the
// fault mode says otherwise. Control port (never faulted): `POST /mode/<mode>` with
//   ok     normal answers
//   503    every HTTP request gets 503
//   hang   requests are accepted and never answered (destroyed after 30 s at the latest)
//   reset  every HTTP request's connection is reset (TCP RST)
//   down   the listener closes and every open socket (WebSockets included) is destroyed; `ok`
//          listens again on the same port
// and `GET /stats` → counts per mode and open sockets. Upgrades echo every text/binary frame.
const http = require('node:http');
const crypto = require('node:crypto');
const { Buffer } = require('node:buffer');
const { setTimeout, clearTimeout } = require('node:timers');

const port = Number(process.argv[2]);
const controlPort = Number(process.argv[3]);
let mode = 'ok';
const sockets = new Set();
const hung = new Set();
const stats = {
  requests: 0,
  answered: 0,
  faulted: { 503: 0, hang: 0, reset: 0 },
  upgrades: 0,
  wsMessages: 0,
};

const CACHED_BODY = JSON.stringify({ items: 'x'.repeat(2000) });

const server = http.createServer((req, res) => {
  stats.requests++;
  if (mode === '503') {
    stats.faulted[503]++;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":"injected 503"}');
    return;
  }
  if (mode === 'hang') {
    stats.faulted.hang++;
    hung.add(res);
    const t = setTimeout(() => req.socket.destroy(), 30000);
    res.on('close', () => {
      clearTimeout(t);
      hung.delete(res);
    });
    return;
  }
  if (mode === 'reset') {
    stats.faulted.reset++;
    if (typeof req.socket.resetAndDestroy === 'function') req.socket.resetAndDestroy();
    else req.socket.destroy();
    return;
  }
  req.resume();
  req.on('end', () => {
    stats.answered++;
    const body = req.url.startsWith('/cached')
      ? CACHED_BODY
      : `{"ok":true,"path":${JSON.stringify(req.url)}}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 10000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
server.on('clientError', (_e, s) => s.destroy());

// ---- WebSocket echo -------------------------------------------------------------------------

function frame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  if (mode !== 'ok' || !key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  stats.upgrades++;
  const accept = crypto
    .createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
      `sec-websocket-accept: ${accept}\r\n\r\n`,
  );
  socket.setNoDelay(true);
  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  const onData = (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i & 3)];
      buf = buf.subarray(off + len);
      if (opcode === 1 || opcode === 2 || opcode === 0) {
        stats.wsMessages++;
        socket.write(frame(opcode || 1, payload));
      } else if (opcode === 8) {
        socket.end(frame(8, payload.subarray(0, 2)));
        return;
      } else if (opcode === 9) socket.write(frame(10, payload));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  if (buf.length) onData(Buffer.alloc(0));
});

// ---- control ---------------------------------------------------------------------------------

function listen() {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function setMode(next) {
  if (next === mode) return;
  if (next === 'down') {
    mode = 'down';
    server.close();
    for (const s of sockets) s.destroy();
    return;
  }
  if (mode === 'down') await listen();
  if (mode === 'hang') for (const res of hung) if (res.socket) res.socket.destroy();
  mode = next;
}

const MODES = new Set(['ok', '503', 'hang', 'reset', 'down']);
const control = http.createServer((req, res) => {
  const m = /^\/mode\/([a-z0-9]+)$/.exec(req.url);
  if (req.method === 'POST' && m && MODES.has(m[1])) {
    setMode(m[1]).then(
      () => res.end(JSON.stringify({ mode })),
      (e) => {
        res.statusCode = 500;
        res.end(String(e.message));
      },
    );
    return;
  }
  if (req.url === '/stats') {
    res.end(JSON.stringify({ mode, sockets: sockets.size, hung: hung.size, ...stats }));
    return;
  }
  res.statusCode = 404;
  res.end();
});

listen().then(
  () => control.listen(controlPort, '127.0.0.1', () => process.stdout.write('ready\n')),
  (e) => {
    process.stderr.write(`origin: ${e.message}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));

'use strict';
// Opens N keep-alive connections to HOST:PORT, sends one GET / on each, reads the response and
// then leaves the socket idle. Prints {"opened","ok","failed","ms"} when all are settled, then
// waits for a line on stdin, prints {"stillOpen"} (the proxy may have closed idle ones) and
// exits, closing everything. Raw sockets keep the client's own cost per connection small.
// usage: node idle.js HOST PORT N CONCURRENCY
const net = require('node:net');
const readline = require('node:readline');

const [host, portArg, nArg, concArg] = process.argv.slice(2);
const port = Number(portArg);
const total = Number(nArg);
const concurrency = Number(concArg) || 200;
const REQUEST = `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: bench-idle\r\n\r\n`;

const sockets = [];
let ok = 0;
let failed = 0;

// Complete when the headers are in and Content-Length bytes of body (or a chunked end) follow.
function complete(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = buf.slice(0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (m) return buf.length - end - 4 >= Number(m[1]);
  return /\r\ntransfer-encoding:\s*chunked/i.test(head) ? buf.endsWith('0\r\n\r\n') : true;
}

function openOne() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let buf = '';
    let settled = false;
    const settle = (good) => {
      if (settled) return;
      settled = true;
      if (good && buf.startsWith('HTTP/1.1 2')) ok++;
      else failed++;
      resolve();
    };
    s.setEncoding('latin1');
    s.on('connect', () => s.write(REQUEST));
    s.on('data', (d) => {
      buf += d;
      if (complete(buf)) settle(true);
    });
    s.on('error', () => settle(false));
    s.on('close', () => {
      s.closedByPeer = true;
      settle(false);
    });
    s.setTimeout(20000, () => s.destroy());
    sockets.push(s);
  });
}

async function main() {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // An idle socket must not time out on our side while the runner samples memory.
  for (const s of sockets) s.setTimeout(0);
  process.stdout.write(
    JSON.stringify({ opened: sockets.length, ok, failed, ms: Date.now() - started }) + '\n',
  );
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', () => {
    const stillOpen = sockets.filter((s) => !s.closedByPeer && !s.destroyed).length;
    process.stdout.write(JSON.stringify({ stillOpen }) + '\n');
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

main();

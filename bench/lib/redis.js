'use strict';
// A throw-away redis-server for the policies scenario's Redis rows: loopback only, on a free
// port, no persistence (no RDB snapshots, no AOF), in its own process group like every server
// of the bench. Missing redis-server is a skip with the reason, never a failure.
const net = require('node:net');
const { setTimeout: sleep } = require('node:timers/promises');
const path = require('node:path');
const procs = require('./procs');
const { which, versionOf } = require('./system');

function ping(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Starts redis-server; returns {url, proc, pid, version} or {skipped: reason}. */
async function start(ctx) {
  const bin = which('redis-server');
  if (!bin) return { skipped: 'redis-server not on PATH (apt-get install redis-server)' };
  const port = await procs.freePort();
  const stderrFile = path.join(ctx.tmp, 'redis.log');
  const proc = procs.start({
    name: 'redis',
    cmd: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    stdoutFile: stderrFile,
    stderrFile,
  });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && !proc.exited) {
    if (await ping(port)) {
      const v = /v=(\S+)/.exec(versionOf(bin, ['--version']) || '');
      const version = `redis-server ${v ? v[1] : '(version unknown)'}`;
      return { url: `redis://127.0.0.1:${port}`, proc, pid: proc.pid, version };
    }
    await sleep(100);
  }
  await procs.stop(proc);
  return { skipped: `redis-server did not answer PING within 10 s. ${procs.tail(stderrFile, 3)}`.trim() };
}

module.exports = { start };

'use strict';
// The origin every proxy forwards to: nginx with one worker (GET / -> 13-byte "Hello, World!",
// GET /64k -> 64 KiB, /upload -> streamed to a node sink that answers after the last byte),
// or node-upstream.js alone when nginx is not installed.
const path = require('node:path');
const procs = require('./procs');
const nginx = require('./nginx');

const NODE_UPSTREAM = path.join(__dirname, '..', 'servers', 'node-upstream.js');

async function startNode(ctx, name) {
  const port = await procs.freePort();
  const stderrFile = path.join(ctx.tmp, `${name}.stderr.log`);
  const proc = procs.start({ name, cmd: process.execPath, args: [NODE_UPSTREAM, String(port)], stderrFile });
  const url = `http://127.0.0.1:${port}`;
  const r = await procs.waitHttp(url + '/', { child: proc, want: 200 });
  if (!r.ok) throw new Error(`${name} did not start: ${r.why} ${procs.tail(stderrFile)}`);
  return { port, url, proc };
}

async function startNginx(ctx, sink) {
  const dir = path.join(ctx.tmp, 'origin-nginx');
  const port = await procs.freePort();
  const conf = nginx.originConf({ dir, port, sinkPort: sink.port, nofile: ctx.nofile });
  const { cmd, args } = nginx.prepare(dir, conf);
  const proc = procs.start({
    name: 'origin',
    cmd,
    args,
    stderrFile: path.join(dir, 'stderr.log'),
    nofile: ctx.nofile,
  });
  const url = `http://127.0.0.1:${port}`;
  const r = await procs.waitHttp(url + '/', { child: proc, want: 200 });
  if (!r.ok)
    throw new Error(`nginx origin did not start: ${r.why} ${procs.tail(path.join(dir, 'error.log'))}`);
  return { port, url, proc };
}

/** Starts the origin; returns {kind, port, url, proc, sink}. */
async function start(ctx) {
  let why = 'nginx not installed';
  if (nginx.available()) {
    const sink = await startNode(ctx, 'upload-sink');
    try {
      const origin = await startNginx(ctx, sink);
      return { kind: 'nginx (1 worker); /upload streamed to a node:http sink', ...origin, sink };
    } catch (e) {
      // A broken nginx should cost the nginx rows, not the whole run.
      why = e.message.split('\n')[0];
      ctx.log(`${why}; using the node:http origin`);
      await procs.stop(sink.proc);
    }
  }
  const origin = await startNode(ctx, 'origin-node');
  return { kind: `node:http (${why})`, ...origin, sink: origin };
}

async function stop(upstream) {
  await procs.stop(upstream.proc);
  if (upstream.sink !== upstream) await procs.stop(upstream.sink.proc);
}

module.exports = { start, stop };

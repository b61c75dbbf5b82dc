'use strict';
// The reverse proxies breakwater is compared with. Each peer's start() returns a handle
// {url, proc} or {skipped: reason}; a missing binary or module is a skip, never a failure.
const path = require('node:path');
const procs = require('./procs');
const nginx = require('./nginx');
const haproxy = require('./haproxy');

const SERVERS = path.join(__dirname, '..', 'servers');

async function ready(name, proc, url, stderrFile) {
  const r = await procs.waitHttp(url + '/', { child: proc, timeoutMs: 15000 });
  if (r.ok) return { url, proc };
  await procs.stop(proc);
  return { skipped: `${name} did not start: ${r.why}. ${procs.tail(stderrFile, 3)}`.trim() };
}

// opts.rateLimit: add the rate-limit scenario's /limited (see nginx.js, haproxy.js).
async function startNginx(ctx, name, opts = {}) {
  if (!nginx.available()) return { skipped: `${nginx.NGINX} not installed` };
  const dir = path.join(ctx.tmp, name);
  const port = await procs.freePort();
  const conf = nginx.proxyConf({
    dir,
    port,
    upstreamPort: ctx.upstream.port,
    nofile: ctx.nofile,
    rateLimit: opts.rateLimit,
  });
  const { cmd, args } = nginx.prepare(dir, conf);
  const stderrFile = path.join(dir, 'stderr.log');
  const proc = procs.start({ name, cmd, args, stderrFile, nofile: ctx.nofile });
  return ready(name, proc, `http://127.0.0.1:${port}`, path.join(dir, 'error.log'));
}

async function startHaproxy(ctx, name, opts = {}) {
  if (!haproxy.available()) return { skipped: `${haproxy.HAPROXY} not installed` };
  const dir = path.join(ctx.tmp, name);
  const port = await procs.freePort();
  const maxconn = ctx.nofile - 1000;
  const text = haproxy.conf({ port, upstreamPort: ctx.upstream.port, maxconn, rateLimit: opts.rateLimit });
  const { cmd, args } = haproxy.prepare(dir, text);
  const stderrFile = path.join(dir, 'stderr.log');
  const proc = procs.start({ name, cmd, args, stderrFile, stdoutFile: stderrFile, nofile: ctx.nofile });
  return ready(name, proc, `http://127.0.0.1:${port}`, stderrFile);
}

function nodePeer(script, moduleName) {
  return async (ctx, name) => {
    try {
      require.resolve(moduleName);
    } catch {
      return { skipped: `npm module ${moduleName} not installed (npm ci --prefix bench)` };
    }
    const port = await procs.freePort();
    const stderrFile = path.join(ctx.tmp, `${name}.stderr.log`);
    const proc = procs.start({
      name,
      cmd: ctx.node.bin, // --node: the Node line under test, like breakwater's
      args: [path.join(SERVERS, script), String(port), ctx.upstream.url],
      stderrFile,
      nofile: ctx.nofile,
      env: { NODE_ENV: 'production' },
    });
    return ready(name, proc, `http://127.0.0.1:${port}`, stderrFile);
  };
}

/** Peer variants in table order. `node` marks the Node.js peers (for the 2x target). */
const PEERS = [
  { id: 'nginx', label: 'nginx (1 worker, upstream keepalive)', node: false, start: startNginx },
  { id: 'haproxy', label: 'HAProxy (nbthread 1, http-reuse always)', node: false, start: startHaproxy },
  {
    id: 'http-proxy',
    label: 'http-proxy 1.18 + keep-alive agent',
    node: true,
    start: nodePeer('http-proxy.js', 'http-proxy'),
  },
  {
    id: 'fastify',
    label: '@fastify/http-proxy 11 (fastify 5)',
    node: true,
    start: nodePeer('fastify.js', '@fastify/http-proxy'),
  },
  {
    id: 'fast-gateway',
    label: 'fast-gateway 3.4',
    node: true,
    start: nodePeer('fast-gateway.js', 'fast-gateway'),
  },
];

/**
 * The Node floor (servers/node-floor.js): node:http + one undici Pool.dispatch() handler, no
 * routing, policies, logs or metrics. Not a peer (it is not a product, and it does not count
 * for the "fastest Node peer" target): the base of the "vs Node floor" ratio.
 */
const FLOOR = {
  id: 'node-floor',
  label: 'Node floor: node:http + undici Pool.dispatch, nothing else',
  node: false,
  start: nodePeer('node-floor.js', 'undici'),
};

module.exports = { PEERS, FLOOR, startNginx, startHaproxy };

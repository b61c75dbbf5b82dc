'use strict';
// Many idle keep-alive client connections: what each proxy holds in memory for them.
const path = require('node:path');
const readline = require('node:readline');
const { URL } = require('node:url');
const { setTimeout, clearTimeout } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const procs = require('../procs');
const procstat = require('../procstat');

const CLIENT = path.join(__dirname, '..', '..', 'clients', 'idle.js');

// next(timeoutMs) resolves with the next stdout line, or null on timeout. The timer is
// cleared when the line comes, so a pending timeout never keeps the runner alive.
function lineReader(stream) {
  const lines = [];
  const waiters = [];
  readline
    .createInterface({ input: stream })
    .on('line', (l) => (waiters.length ? waiters.shift()(l) : lines.push(l)));
  return (timeoutMs) => {
    if (lines.length) return Promise.resolve(lines.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(done), 1);
        resolve(null);
      }, timeoutMs);
      const done = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      waiters.push(done);
    });
  };
}

async function measureOne(ctx, v, n) {
  await sleep(300);
  const rssBefore = procstat.rssBytes(v.pid);
  const { port, hostname } = new URL(v.url);
  const child = procs.start({
    name: `idle-client-${v.id}`,
    cmd: process.execPath,
    args: [CLIENT, hostname, port, String(n), '200'],
    pipes: true,
    nofile: ctx.nofile,
  });
  const next = lineReader(child.stdout);
  try {
    const opened = JSON.parse((await next(120000)) || '{"opened":0,"ok":0,"failed":0}');
    await sleep(1000); // let the proxy settle (buffers released, GC) before sampling
    const rss = procstat.rssBytes(v.pid);
    child.stdin.write('report\n');
    const { stillOpen } = JSON.parse((await next(10000)) || '{}');
    const growth = rss - rssBefore;
    const row = { ...opened, stillOpen, rssBeforeBytes: rssBefore, rssBytes: rss, growthBytes: growth };
    row.kbPerConn = opened.ok ? growth / 1024 / opened.ok : null;
    ctx.log(
      `[idle] ${v.id}: ${opened.ok}/${n} ok, ${stillOpen} still open, RSS ${(rss / 2 ** 20).toFixed(1)} MB`,
    );
    return row;
  } finally {
    await procs.stop(child);
  }
}

async function run(ctx) {
  const n = ctx.opts.idleConnections;
  // One fd per client socket on each side, plus upstream sockets and files.
  if (ctx.nofile < n + 1000) {
    return { kind: 'idle', n, skippedAll: `open-files hard limit ${ctx.nofile} is below ${n + 1000}` };
  }
  const list = await variants.startSet(ctx, {
    direct: false,
    breakwater: [(c) => variants.breakwater(c, 'bw-plain', 'breakwater plain', [{ build: CONFIGS.plain }])],
  });
  try {
    for (const v of list) if (!v.skipped) v.idle = await measureOne(ctx, v, n);
  } finally {
    await variants.stopAll(list);
  }
  return {
    kind: 'idle',
    n,
    rows: list.map((v) => ({ id: v.id, label: v.label, skipped: v.skipped, note: v.note, ...v.idle })),
  };
}

module.exports = { run };

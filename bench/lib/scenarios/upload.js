'use strict';
// A large upload streamed through each proxy: throughput and how much the proxy's memory grows
// (a proxy that buffers the body grows by the body size; one that streams stays flat).
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const procs = require('../procs');
const procstat = require('../procstat');

const CLIENT = path.join(__dirname, '..', '..', 'clients', 'upload.js');
const WARMUP_BYTES = 8 * 2 ** 20;

async function upload(url, bytes) {
  const timeoutMs = 30000 + bytes / 1e5; // at least 100 kB/s... plus 30 s, to stay bounded
  const r = await procs.run(process.execPath, [CLIENT, url + '/upload', String(bytes)], { timeoutMs });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { status: 0, error: `client exit ${r.code}: ${r.stderr.trim().slice(-200)}` };
  }
}

async function measureOne(ctx, v, bytes) {
  await upload(v.url, WARMUP_BYTES); // first-use allocations (buffers, JIT) are not growth
  await sleep(500);
  const rssBefore = procstat.rssBytes(v.pid);
  const resetOk = procstat.resetPeak(v.pid);
  const res = await upload(v.url, bytes);
  const peak = procstat.peakRssBytes(v.pid);
  const ok = res.status === 200 && res.received === bytes;
  const row = {
    status: res.status,
    ok,
    error:
      res.error ||
      (ok ? undefined : `status ${res.status}, sink received ${res.received}: ${res.body || ''}`),
    seconds: res.seconds,
    mbPerSec: ok ? bytes / 2 ** 20 / res.seconds : null,
    rssBeforeBytes: rssBefore,
    peakRssBytes: resetOk ? peak : null,
    growthBytes: resetOk ? peak - rssBefore : null,
  };
  ctx.log(
    `[upload] ${v.id}: ${ok ? `${row.mbPerSec.toFixed(0)} MB/s` : row.error}, RSS +${(row.growthBytes / 2 ** 20).toFixed(1)} MB`,
  );
  return row;
}

async function run(ctx) {
  const bytes = ctx.opts.uploadBytes;
  const list = await variants.startSet(ctx, {
    breakwater: [
      (c) =>
        variants.breakwater(c, 'bw-plain', 'breakwater plain (maxBodySize 2048mb)', [
          { build: CONFIGS.upload },
          { build: CONFIGS.plain, note: 'plain config: validate rejected server.limits' },
        ]),
    ],
  });
  try {
    for (const v of list) if (!v.skipped) v.upload = await measureOne(ctx, v, bytes);
  } finally {
    await variants.stopAll(list);
  }
  const rows = list.map((v) => ({ id: v.id, label: v.label, skipped: v.skipped, note: v.note, ...v.upload }));
  return { kind: 'upload', bytes, rows };
}

module.exports = { run };

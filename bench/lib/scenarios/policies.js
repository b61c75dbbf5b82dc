'use strict';
// What each policy costs per request: one breakwater process per policy, each with the plain
// route plus that one policy, all on the tiny GET and measured in the same interleaved rounds
// as breakwater plain. Reported as req/s, the ratio to the row's baseline (plain, unless the
// policy needs a different setup to compare with) and the CPU µs/req it adds.
const os = require('node:os');
const { setTimeout: sleep } = require('node:timers/promises');
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const procs = require('../procs');
const redis = require('../redis');
const { interleave } = require('../measure');
const stats = require('../stats');

const NOSTORE = '/nostore';

/**
 * PROCESSES: one breakwater each, with its CONFIGS.policy options and whether it needs Redis.
 * ROWS: the measured requests, each on one process and path, with its baseline row (`base`)
 * and what to check after the rounds.
 */
const PROCESSES = [
  { id: 'plain', opts: {} },
  { id: 'rl', opts: { rateLimit: true } },
  { id: 'rl-redis', opts: { rateLimit: true }, redis: true },
  { id: 'w2', opts: { workers: 2 } },
  { id: 'rl-w2', opts: { rateLimit: true, workers: 2 } },
  { id: 'cache', opts: { cache: true } },
  { id: 'cache-redis', opts: { cache: true }, redis: true },
];

const ROWS = [
  { id: 'plain', proc: 'plain', path: '/', label: 'plain (no policy)' },
  {
    id: 'rl',
    proc: 'rl',
    path: '/',
    base: 'plain',
    check: 'ratelimit',
    label: 'rateLimit in memory (`key: ip`, never hit)',
  },
  {
    id: 'rl-redis',
    proc: 'rl-redis',
    path: '/',
    base: 'plain',
    check: 'ratelimit',
    label: 'rateLimit in Redis (`redis.url`, never hit)',
  },
  { id: 'w2', proc: 'w2', path: '/', base: 'plain', label: 'plain, `workers: 2`' },
  {
    id: 'rl-w2',
    proc: 'rl-w2',
    path: '/',
    base: 'w2',
    check: 'ratelimit',
    label: 'rateLimit, `workers: 2` (counted in the primary over IPC, never hit)',
  },
  {
    id: 'cache',
    proc: 'cache',
    path: '/',
    base: 'plain',
    check: 'cache',
    label: 'cache hit (`cache: {ttl: 1h}`, memory)',
  },
  {
    id: 'cache-redis',
    proc: 'cache-redis',
    path: '/',
    base: 'plain',
    check: 'cache',
    label: 'cache hit with `redis.url` set (memory tier answers)',
  },
  { id: 'plain-nostore', proc: 'plain', path: NOSTORE, base: 'plain', label: `plain, GET ${NOSTORE}` },
  {
    id: 'cache-nostore',
    proc: 'cache',
    path: NOSTORE,
    base: 'plain-nostore',
    check: 'cache',
    label: `cache lookup that misses (GET ${NOSTORE}: \`no-store\`, goes upstream)`,
  },
];

/** The headers that show the policy really ran on that request. */
async function check(url, kind) {
  const r = await procs.httpStatus(url, 3000);
  const h = r.headers || {};
  if (kind === 'ratelimit') {
    const limit = h['ratelimit-limit'] ?? h['x-ratelimit-limit'];
    const left = h['ratelimit-remaining'] ?? h['x-ratelimit-remaining'];
    return limit === undefined
      ? `${r.status}, no RateLimit headers`
      : `${r.status}, remaining ${left} of ${limit}`;
  }
  if (kind === 'cache') return `${r.status}, Cache-Status: ${h['cache-status'] ?? 'none'}`;
  return `${r.status}`;
}

/** Polls the admin /health until `redis.status` is up (or 10 s). */
async function redisUp(cfg) {
  const url = `http://${cfg.server.admin.listen}/health`;
  let status = 'unknown';
  for (let i = 0; i < 100; i++) {
    const r = await procs.httpStatus(url, 1000);
    try {
      status = JSON.parse(r.body).redis?.status ?? 'unknown';
    } catch {
      // not up yet
    }
    if (status === 'up') return status;
    await sleep(100);
  }
  return status;
}

function startProcess(ctx, p, redisInfo) {
  const label = `breakwater (${p.id})`;
  if (p.redis && redisInfo.skipped) return { id: p.id, label, skipped: redisInfo.skipped };
  const build = (params) =>
    CONFIGS.policy(params, { ...p.opts, redisUrl: p.redis ? redisInfo.url : undefined });
  return variants.breakwater(ctx, `bw-policy-${p.id}`, label, [{ build }]);
}

async function run(ctx) {
  const redisInfo = await redis.start(ctx);
  const started = await Promise.all(PROCESSES.map((p) => startProcess(ctx, p, redisInfo)));
  const byId = Object.fromEntries(PROCESSES.map((p, i) => [p.id, { ...p, v: started[i] }]));
  const notes = [];
  try {
    for (const p of Object.values(byId)) {
      if (!p.redis || p.v.skipped) continue;
      const status = await redisUp(p.v.config);
      if (status !== 'up')
        notes.push(`${p.id}: /health says redis ${status}; its row measured the in-memory fallback.`);
    }
    const list = ROWS.map((r) => {
      const v = byId[r.proc].v;
      if (v.skipped) return { ...r, skipped: v.skipped };
      const sidePid = byId[r.proc].redis ? redisInfo.pid : undefined;
      return { ...r, url: v.url, pid: v.pid, sidePid };
    });
    const running = list.filter((r) => !r.skipped);
    // One request each, so the cache holds GET / before the warm-up.
    for (const r of running) await procs.httpStatus(r.url + r.path, 3000);
    await interleave(ctx, 'policies', running);
    for (const r of running) r.checked = r.check ? await check(r.url + r.path, r.check) : '';
    if (redisInfo.skipped) notes.push(`Redis rows skipped: ${redisInfo.skipped}.`);
    else notes.push(`Redis: ${redisInfo.version}, started by the runner (no persistence), on loopback.`);
    notes.push(
      `wrk, the origin, the gateway (and Redis) share ${os.cpus().length} cores: \`workers: 2\` adds ` +
        'processes, not cores, and its IPC to the primary competes with them for the same CPUs.',
    );
    return { kind: 'policies', rows: rowsOf(list), note: notes.join(' ') };
  } finally {
    await variants.stopAll(started);
    if (redisInfo.proc) await procs.stop(redisInfo.proc);
  }
}

function rowsOf(list) {
  const find = (id) => list.find((r) => r.id === id);
  return list.map((r) => {
    const base = r.base ? find(r.base) : undefined;
    const s = r.summary;
    const b = base?.summary;
    return {
      id: r.id,
      label: r.label,
      path: r.path,
      skipped: r.skipped,
      baseline: base?.label ?? null,
      summary: s,
      runs: r.runs,
      vsBase: s && b ? stats.ratio(s.rps, b.rps) : null,
      cpuDelta: s?.cpuUsPerReq != null && b?.cpuUsPerReq != null ? s.cpuUsPerReq - b.cpuUsPerReq : null,
      checked: r.checked,
    };
  });
}

module.exports = { run };

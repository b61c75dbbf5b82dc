'use strict';
// Scenario 7: the 429 of a spent rate limit. Every proxy that has a rate limiter of its own
// (nginx limit_req, HAProxy stick table + http-request deny, breakwater rateLimit) gets one
// process with two paths: /limited, whose limit is spent before measuring (one shared key,
// 1 request per minute or hour), and / proxied. Both are measured interleaved with the other
// variants, so each 429 rate is compared with plain proxying on the same process and with the
// direct origin. The Node peers have no rate limiter in their plain setup and are left out.
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const peers = require('../peers');
const procs = require('../procs');
const { interleave } = require('../measure');
const stats = require('../stats');
const { probe } = require('./failfast');

const LIMITED = '/limited';

/** Spends the limit (the one request it allows), then shows what /limited answers. */
async function prime(url) {
  await procs.httpStatus(url + LIMITED, 3000);
  return probe(url + LIMITED);
}

// name: row prefix; limiter: what makes the 429.
const PROXIES = [
  { id: 'nginx', name: 'nginx', limiter: '`limit_req` rate=1r/m' },
  { id: 'haproxy', name: 'HAProxy', limiter: 'stick table + `http-request deny`' },
  { id: 'breakwater', name: 'breakwater', limiter: '`rateLimit: {key: route, limit: 1, window: 1h}`' },
];

async function startOne(ctx, p) {
  if (p.id === 'breakwater') {
    const v = await variants.breakwater(ctx, 'bw-ratelimit', p.name, [{ build: CONFIGS.rateLimited }]);
    return { ...p, ...v, id: p.id };
  }
  const start = p.id === 'nginx' ? peers.startNginx : peers.startHaproxy;
  const h = await start(ctx, `${p.id}-ratelimit`, { rateLimit: true });
  return h.skipped ? { ...p, skipped: h.skipped } : { ...p, url: h.url, proc: h.proc, pid: h.proc.pid };
}

function startAll(ctx) {
  return Promise.all(PROXIES.map((p) => startOne(ctx, p)));
}

async function run(ctx) {
  const procsList = await startAll(ctx);
  const direct = { ...variants.direct(ctx), path: '/' };
  const list = [direct];
  const probes = {};
  for (const p of procsList.filter((x) => !x.skipped)) {
    const on = (suffix, what, path) => ({
      id: `${p.id}-${suffix}`,
      group: p.id,
      label: `${p.name}: ${what}`,
      url: p.url,
      pid: p.pid,
      path,
    });
    list.push(
      on('proxied', 'proxied (GET /)', '/'),
      on('429', `429 from ${p.limiter} (GET ${LIMITED})`, LIMITED),
    );
    probes[p.id] = { before: await prime(p.url) };
  }
  try {
    if (list.length > 1) await interleave(ctx, 'ratelimit', list);
    for (const p of procsList.filter((x) => !x.skipped)) probes[p.id].after = await probe(p.url + LIMITED);
  } finally {
    await variants.stopAll(procsList);
  }
  const directRps = direct.summary?.rps;
  const rows = [];
  for (const v of list) {
    const proxied = list.find((x) => x.id === `${v.group}-proxied`);
    const is429 = v.id.endsWith('-429');
    rows.push({
      id: v.id,
      label: v.label,
      summary: v.summary,
      runs: v.runs,
      vsDirect: v === direct ? null : stats.ratio(v.summary?.rps, directRps),
      vsProxied: is429 ? stats.ratio(v.summary?.rps, proxied?.summary?.rps) : null,
      probeBefore: is429 ? probes[v.group].before : undefined,
      probeAfter: is429 ? probes[v.group].after : undefined,
    });
  }
  for (const p of procsList.filter((x) => x.skipped))
    rows.push({ id: p.id, label: p.name, skipped: p.skipped });
  const notes = [];
  const bad = procsList.filter((p) => !p.skipped && probes[p.id].before.status !== 429).map((p) => p.id);
  if (bad.length)
    notes.push(`No 429 after priming for ${bad.join(', ')} (see the probe): that row is not the 429 rate.`);
  notes.push(
    "nginx's lowest rate is 1r/m, so about one request a minute still passes on its /limited; " +
      'HAProxy and breakwater allow one per hour. nginx and HAProxy log nothing; breakwater writes its access line (to /dev/null).',
  );
  return { kind: 'ratelimit', rows, note: notes.join(' ') };
}

module.exports = { run };

'use strict';
// Responses breakwater makes itself: 503 from an open breaker and 429 from a spent rate limit,
// measured on one process interleaved with plain proxying (route /), so the ratio is clean.
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const procs = require('../procs');
const { interleave } = require('../measure');
const stats = require('../stats');

async function probe(url) {
  const r = await procs.httpStatus(url, 3000);
  let code = null;
  try {
    code = JSON.parse(r.body).error?.code ?? null;
  } catch {
    // not a gateway error body
  }
  return { status: r.status, code };
}

// volumeThreshold 5: a few refused connects open the breaker; 20 leaves room for retries
// that a default config might add and for a rolling window that needs more than the minimum.
async function primeBreaker(url) {
  for (let i = 0; i < 20; i++) await procs.httpStatus(url + '/dead', 3000);
  return probe(url + '/dead');
}

async function primeLimit(url) {
  await procs.httpStatus(url + '/limited', 3000); // spends the only request of the window
  return probe(url + '/limited');
}

function row(v, plainRps, probeBefore, probeAfter) {
  return {
    id: v.id,
    label: v.label,
    path: v.path,
    summary: v.summary,
    runs: v.runs,
    vsPlain: v.id === 'plain' ? null : stats.ratio(v.summary?.rps, plainRps),
    probeBefore,
    probeAfter,
  };
}

const WITHOUT_LIMIT = 'route /limited left out: validate rejected rateLimit';

async function run(ctx, { breaker, ratelimit }) {
  const attempts = [{ build: (p) => CONFIGS.failFast(p, { rateLimit: true }) }];
  if (ratelimit)
    attempts.push({ build: (p) => CONFIGS.failFast(p, { rateLimit: false }), note: WITHOUT_LIMIT });
  const bw = await variants.breakwater(ctx, 'bw-failfast', 'breakwater', attempts);
  const out = { breaker: { kind: 'failfast' }, ratelimit: { kind: 'failfast' } };
  if (bw.skipped) {
    out.breaker.skippedAll = out.ratelimit.skippedAll = bw.skipped;
    return out;
  }
  const hasLimit = bw.note !== WITHOUT_LIMIT;
  if (!hasLimit) out.ratelimit.skippedAll = `validate rejected rateLimit {key: route}: ${bw.rejected[0]}`;
  if (!breaker && !hasLimit) {
    await procs.stop(bw.proc); // nothing left to compare plain proxying with
    return out;
  }
  const on = (id, label, path) => ({ id, label, path, url: bw.url, pid: bw.pid, proc: bw.proc });
  const list = [on('plain', 'plain proxied (route /)', '/')];
  const probes = {};
  if (breaker) {
    list.push(on('breaker-open', 'breaker open: fail-fast 503 (route /dead)', '/dead'));
    probes['breaker-open'] = await primeBreaker(bw.url);
  }
  if (ratelimit && hasLimit) {
    list.push(on('rate-limited', 'rate limit spent: 429 (route /limited)', '/limited'));
    probes['rate-limited'] = await primeLimit(bw.url);
  }
  try {
    await interleave(ctx, 'failfast', list);
    for (const v of list.slice(1)) probes[`${v.id}:after`] = await probe(bw.url + v.path);
  } finally {
    await procs.stop(bw.proc);
  }
  const plainRps = list[0].summary?.rps;
  const mk = (id) => {
    const v = list.find((x) => x.id === id);
    return [row(list[0], plainRps), row(v, plainRps, probes[id], probes[`${id}:after`])];
  };
  if (breaker) {
    out.breaker.rows = mk('breaker-open');
    if (probes['breaker-open'].code !== 'CIRCUIT_OPEN') {
      out.breaker.note =
        'The breaker did not open after priming (see the probe): the /dead row is the rate of proxied failures, not of fail-fast 503s.';
    }
  }
  if (ratelimit && hasLimit) {
    out.ratelimit.rows = mk('rate-limited');
    if (probes['rate-limited'].status !== 429)
      out.ratelimit.note = 'The limit did not answer 429 after priming (see the probe).';
  }
  return out;
}

module.exports = { run };

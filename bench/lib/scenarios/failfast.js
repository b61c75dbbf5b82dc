'use strict';
// Scenario 6: the 503 breakwater makes itself when a breaker is open, measured on one process
// interleaved with plain proxying (route /), so the ratio is clean. (The 429 of a spent rate
// limit is scenario 7, scenarios/ratelimit.js.)
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const procs = require('../procs');
const { interleave } = require('../measure');
const stats = require('../stats');

/** Status and gateway error code (`error.code` of the JSON body) of one GET. */
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

async function run(ctx) {
  const out = { kind: 'failfast' };
  const bw = await variants.breakwater(ctx, 'bw-failfast', 'breakwater', [{ build: CONFIGS.failFast }]);
  if (bw.skipped) return { ...out, skippedAll: bw.skipped };
  const on = (id, label, path) => ({ id, label, path, url: bw.url, pid: bw.pid, proc: bw.proc });
  const plain = on('plain', 'plain proxied (route /)', '/');
  const open = on('breaker-open', 'breaker open: fail-fast 503 (route /dead)', '/dead');
  const before = await primeBreaker(bw.url);
  let after;
  try {
    await interleave(ctx, 'breaker', [plain, open]);
    after = await probe(bw.url + '/dead');
  } finally {
    await procs.stop(bw.proc);
  }
  out.rows = [row(plain, plain.summary?.rps), row(open, plain.summary?.rps, before, after)];
  if (before.code !== 'CIRCUIT_OPEN') {
    out.note =
      'The breaker did not open after priming (see the probe): the /dead row is the rate of proxied failures, not of fail-fast 503s.';
  }
  return out;
}

module.exports = { run, probe };

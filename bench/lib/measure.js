'use strict';
// The measuring loop shared by the load scenarios: warm every variant up, then run rounds
// A B C … A B C … so that slow drifts of the shared machine (thermal, page cache, another
// tenant) hit every variant alike instead of whichever happened to run last.
const { setTimeout: sleep } = require('node:timers/promises');
const procstat = require('./procstat');
const { runLoad } = require('./load');
const stats = require('./stats');

/**
 * variants: [{id, label, url, pid, path?, sidePid?}] where url + (path ?? opts.path) is the
 * request URL and pid the root of the process tree whose CPU and memory are charged to the
 * variant; sidePid, when set, is a helper the variant works with (Redis), whose CPU is reported
 * apart. Mutates and returns variants with `runs` (one per round) and `summary`.
 */
async function interleave(ctx, scenario, variants, { path = '/' } = {}) {
  const { rounds, warmup } = ctx.opts;
  for (const v of variants) {
    ctx.log(`[${scenario}] warm-up ${v.id} (${warmup}s)`);
    await runLoad(ctx.gen, { url: v.url + (v.path ?? path), seconds: warmup }).catch((e) =>
      ctx.log(`  ${e.message}`),
    );
    v.runs = [];
  }
  // Peak RSS is the peak under load, not the start-up or another scenario's peak.
  for (const v of variants) v.peakResetOk = procstat.resetPeak(v.pid);
  for (let r = 1; r <= rounds; r++) {
    for (const v of variants) {
      const run = await measureOnce(ctx, v, v.path ?? path);
      v.runs.push(run);
      ctx.log(`[${scenario}] round ${r}/${rounds} ${v.id}: ${describe(run)}`);
      await sleep(100); // let the previous run's connections close before the next starts
    }
  }
  for (const v of variants) v.summary = summarize(v);
  return variants;
}

async function measureOnce(ctx, v, path) {
  const upstreamPid = ctx.upstream.proc.pid;
  const cpu0 = procstat.cpuSnapshot(v.pid);
  const up0 = procstat.cpuSnapshot(upstreamPid);
  const side0 = v.sidePid ? procstat.cpuSnapshot(v.sidePid) : null;
  let res;
  try {
    res = await runLoad(ctx.gen, { url: v.url + path, seconds: ctx.opts.seconds });
  } catch (e) {
    return { error: e.message };
  }
  const cpuUs = procstat.cpuDeltaMicros(cpu0, procstat.cpuSnapshot(v.pid));
  const upUs = procstat.cpuDeltaMicros(up0, procstat.cpuSnapshot(upstreamPid));
  const sideUs = side0 ? procstat.cpuDeltaMicros(side0, procstat.cpuSnapshot(v.sidePid)) : null;
  return {
    ...res,
    cpuUsPerReq: res.requests ? cpuUs / res.requests : null,
    upstreamUsPerReq: res.requests && v.pid !== upstreamPid ? upUs / res.requests : null,
    sideUsPerReq: res.requests && sideUs !== null ? sideUs / res.requests : null,
  };
}

function describe(run) {
  if (run.error) return `error: ${run.error}`;
  const bad = run.non2xx + run.socketErrors;
  return (
    `${Math.round(run.rps)} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ` +
    `cpu ${Math.round(run.cpuUsPerReq)} µs/req${bad ? `, ${run.non2xx} non-2xx, ${run.socketErrors} socket errors` : ''}`
  );
}

function summarize(v) {
  const ok = v.runs.filter((r) => !r.error);
  const pick = (k) => ok.map((r) => r[k]);
  return {
    rps: stats.median(pick('rps')),
    rpsMin: stats.min(pick('rps')),
    rpsMax: stats.max(pick('rps')),
    p50Ms: stats.median(pick('p50Ms')),
    p99Ms: stats.median(pick('p99Ms')),
    cpuUsPerReq: stats.median(pick('cpuUsPerReq')),
    upstreamUsPerReq: stats.median(pick('upstreamUsPerReq')),
    sideUsPerReq: stats.median(pick('sideUsPerReq')),
    peakRssBytes: procstat.peakRssBytes(v.pid),
    non2xx: stats.sum(pick('non2xx')),
    socketErrors: stats.sum(pick('socketErrors')),
    requests: stats.sum(pick('requests')),
    failedRuns: v.runs.length - ok.length,
  };
}

module.exports = { interleave };

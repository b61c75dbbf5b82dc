'use strict';
// Turns "which proxies does this scenario compare" into started processes. A variant is
// {id, label, url, pid, proc} when it runs, or {id, label, skipped} with the reason.
const procs = require('./procs');
const bw = require('./breakwater');
const { PEERS, FLOOR } = require('./peers');

function direct(ctx) {
  return {
    id: 'direct',
    label: `direct to upstream (${ctx.upstream.name}, no proxy)`,
    url: ctx.upstream.url,
    pid: ctx.upstream.proc.pid,
    direct: true,
  };
}

async function peer(ctx, p) {
  const h = await p.start(ctx, p.id);
  const v = { id: p.id, label: p.label, nodePeer: p.node };
  return h.skipped ? { ...v, skipped: h.skipped } : { ...v, url: h.url, proc: h.proc, pid: h.proc.pid };
}

function peers(ctx) {
  return Promise.all(PEERS.map((p) => peer(ctx, p)));
}

function floor(ctx) {
  return peer(ctx, FLOOR);
}

/** Ports plus the bits every breakwater config builder needs. */
async function bwParams(ctx) {
  return {
    port: await procs.freePort(),
    adminPort: await procs.freePort(),
    upstreamUrl: ctx.upstream.url,
    target: ctx.bw.target,
    deadPort: ctx.deadPort,
  };
}

/**
 * Validates, then starts, the first config in `attempts` that validate accepts. attempts:
 * [{build(params) -> cfg, note}], tried in order; the note of the one used is kept, so a
 * fallback (e.g. "without rateLimit") is visible in the report. env: extra environment of the
 * gateway process (bw.NO_ACCESS_LOG, bw.ACCESS_LOG); the runner's own when not given.
 */
async function breakwater(ctx, id, label, attempts, { probePath = '/', env } = {}) {
  const v = { id, label, breakwater: true, env };
  if (!ctx.bw.available) return { ...v, skipped: ctx.bw.why };
  const rejected = [];
  for (const a of attempts) {
    const params = await bwParams(ctx);
    const cfg = a.build(params);
    const val = await bw.validate(ctx, id, cfg);
    if (!val.ok) {
      rejected.push(val.output || `exit ${val.code}`);
      continue;
    }
    const h = await bw.start(ctx, id, cfg, probePath, env);
    if (h.skipped) return { ...v, skipped: h.skipped };
    return { ...v, url: h.url, proc: h.proc, pid: h.proc.pid, note: a.note, config: cfg, rejected };
  }
  return { ...v, skipped: `validate rejected the config: ${rejected[rejected.length - 1]}`, rejected };
}

/**
 * Starts a scenario's variants: direct (no process of its own), the peers, the Node floor and
 * breakwater specs ((ctx) => variant). Everything starts in parallel, each on its own free
 * ports; only start-up overlaps, the measuring is strictly one variant at a time.
 */
async function startSet(
  ctx,
  { direct: withDirect = true, peers: withPeers = true, floor: withFloor = false, breakwater: specs = [] },
) {
  const [ps, fl, bws] = await Promise.all([
    withPeers ? peers(ctx) : [],
    withFloor ? floor(ctx).then((v) => [v]) : [],
    Promise.all(specs.map((spec) => spec(ctx))),
  ]);
  return [...(withDirect ? [direct(ctx)] : []), ...ps, ...fl, ...bws];
}

async function stopAll(variants) {
  await Promise.all(variants.filter((v) => v.proc).map((v) => procs.stop(v.proc)));
}

module.exports = { direct, peers, floor, breakwater, startSet, stopAll };

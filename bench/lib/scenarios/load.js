'use strict';
// Throughput scenarios: tiny GET at saturation, 64 KB responses, 1,000 routes vs 1 route.
const { CONFIGS } = require('../breakwater');
const variants = require('../variants');
const { interleave } = require('../measure');
const stats = require('../stats');

const BW_PLAIN = { build: CONFIGS.plain };
const FLOOR_ID = 'node-floor';
const FLOOR_RATIO = 'vs Node floor';

// The full chain's load goes to /nostore (origin: `Cache-Control: no-store`): its cache block
// looks up every request, misses, and forwards it. Older builds without `cache` or `rateLimit`
// fall back to the chain without them, and the row says so.
const FULL_CHAIN_PATH = '/nostore';

async function bwFullChain(ctx) {
  const v = await variants.breakwater(ctx, 'bw-full', 'breakwater full chain', [
    { build: (p) => CONFIGS.fullChain(p), note: `GET ${FULL_CHAIN_PATH}` },
    {
      build: (p) => CONFIGS.fullChain(p, { cache: false }),
      note: 'GET /, without cache: validate rejected it',
    },
    {
      build: (p) => CONFIGS.fullChain(p, { rateLimit: false, cache: false }),
      note: 'GET /, without rateLimit and cache: validate rejected them',
    },
  ]);
  if (v.note === `GET ${FULL_CHAIN_PATH}`) v.path = FULL_CHAIN_PATH;
  return v;
}

const ROUTES_1000 = (c) =>
  variants.breakwater(c, 'bw-routes1000', 'breakwater, 1,000 routes (request hits the last)', [
    { build: CONFIGS.routes1000 },
  ]);

// Rows for the report: every variant, measured or skipped, with its ratio to the baseline row
// and, when the Node floor ran, to the floor.
function rows(list, baselineId) {
  const rps = (id) => list.find((v) => v.id === id)?.summary?.rps;
  const base = rps(baselineId);
  const floor = rps(FLOOR_ID);
  return list.map((v) => ({
    id: v.id,
    label: v.label,
    skipped: v.skipped,
    note: v.note,
    path: v.path,
    nodePeer: v.nodePeer,
    summary: v.summary,
    runs: v.runs,
    vsBase: v.summary && v.id !== baselineId ? stats.ratio(v.summary.rps, base) : null,
    vsFloor: v.summary && v.id !== FLOOR_ID ? stats.ratio(v.summary.rps, floor) : null,
  }));
}

async function measure(ctx, id, list, path, baselineId = 'direct') {
  const running = list.filter((v) => !v.skipped);
  try {
    await interleave(ctx, id, running, { path });
  } finally {
    await variants.stopAll(list);
  }
  return rows(list, baselineId);
}

/**
 * withRoutes: also measure the 1,000-routes variant in the same interleaved rounds, so that
 * scenario 4 needs no run of its own when scenario 1 runs anyway (saves a minute of the 10).
 */
async function tiny(ctx, { withRoutes = false } = {}) {
  const specs = [
    (c) => variants.breakwater(c, 'bw-plain', 'breakwater plain', [BW_PLAIN]),
    bwFullChain,
    (c) =>
      variants.breakwater(c, 'bw-workers2', 'breakwater plain, workers: 2', [{ build: CONFIGS.workers2 }]),
  ];
  if (withRoutes) specs.push(ROUTES_1000);
  const list = await variants.startSet(ctx, { floor: true, breakwater: specs });
  const full = list.find((v) => v.id === 'bw-full');
  return {
    kind: 'load',
    ratioLabel: 'vs direct',
    floorLabel: FLOOR_RATIO,
    rows: await measure(ctx, 'tiny', list, '/'),
    note:
      full?.path === FULL_CHAIN_PATH
        ? `The full chain's load is \`GET ${FULL_CHAIN_PATH}\`: the same 13 bytes as \`GET /\`, plus ` +
          '`Cache-Control: no-store` from the origin, so its cache lookup misses on every request and nothing is stored.'
        : undefined,
  };
}

async function big(ctx) {
  const list = await variants.startSet(ctx, {
    floor: true,
    breakwater: [(c) => variants.breakwater(c, 'bw-plain', 'breakwater plain', [BW_PLAIN])],
  });
  return {
    kind: 'load',
    ratioLabel: 'vs direct',
    floorLabel: FLOOR_RATIO,
    rows: await measure(ctx, '64k', list, '/64k'),
  };
}

const ROUTES_RATIO = 'vs 1 route';

// Both breakwater processes, no peers: the question is only what the route table costs.
async function routes(ctx) {
  const list = await variants.startSet(ctx, {
    direct: false,
    peers: false,
    breakwater: [(c) => variants.breakwater(c, 'bw-plain', 'breakwater, 1 route', [BW_PLAIN]), ROUTES_1000],
  });
  return {
    kind: 'load',
    ratioLabel: ROUTES_RATIO,
    rows: await measure(ctx, 'routes', list, '/', 'bw-plain'),
  };
}

/** Scenario 4 from scenario 1's rounds (run with withRoutes). */
function routesFromTiny(tinyResult) {
  const pick = (id) => tinyResult.rows.find((r) => r.id === id);
  const plain = { ...pick('bw-plain'), label: 'breakwater, 1 route', vsBase: null };
  const many = pick('bw-routes1000');
  const vsBase = stats.ratio(many.summary?.rps, plain.summary?.rps);
  return {
    kind: 'load',
    ratioLabel: ROUTES_RATIO,
    note: "Measured within scenario 1's interleaved rounds (same warm-up, same rounds).",
    rows: [plain, { ...many, vsBase }],
  };
}

module.exports = { tiny, big, routes, routesFromTiny };

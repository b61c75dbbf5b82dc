'use strict';
// Throughput scenarios: tiny GET at saturation, 64 KB responses, 1,000 routes vs 1 route.
const os = require('node:os');
const { CONFIGS, NO_ACCESS_LOG, ACCESS_LOG } = require('../breakwater');
const variants = require('../variants');
const { interleave } = require('../measure');
const stats = require('../stats');

const BW_PLAIN = { build: CONFIGS.plain };
const FLOOR_ID = 'node-floor';
const FLOOR_RATIO = 'vs Node floor';

// breakwater writes one JSON access line per request at info. The rows without it start the
// gateway with LOG_LEVEL=warn (only 5xx and slow requests would still be logged: none here);
// bw-full-log runs at info, as users run it, with stdout to /dev/null as every variant.
const NO_LOG = { env: NO_ACCESS_LOG };
const WITH_LOG = { env: ACCESS_LOG };
const NO_LOG_LABEL = 'no access log (LOG_LEVEL=warn)';
const LOG_LABEL = 'JSON access log on (LOG_LEVEL=info, stdout to /dev/null)';

const bwPlain =
  (label = `breakwater plain, ${NO_LOG_LABEL}`) =>
  (c) =>
    variants.breakwater(c, 'bw-plain', label, [BW_PLAIN], NO_LOG);

// The full chain's load goes to /nostore (origin: `Cache-Control: no-store`): its cache block
// looks up every request, misses, and forwards it. Older builds without `cache` or `rateLimit`
// fall back to the chain without them, and the row says so.
const FULL_CHAIN_PATH = '/nostore';

async function bwFullChain(ctx, id, label, opts) {
  const v = await variants.breakwater(
    ctx,
    id,
    label,
    [
      { build: (p) => CONFIGS.fullChain(p), note: `GET ${FULL_CHAIN_PATH}` },
      {
        build: (p) => CONFIGS.fullChain(p, { cache: false }),
        note: 'GET /, without cache: validate rejected it',
      },
      {
        build: (p) => CONFIGS.fullChain(p, { rateLimit: false, cache: false }),
        note: 'GET /, without rateLimit and cache: validate rejected them',
      },
    ],
    opts,
  );
  if (v.note === `GET ${FULL_CHAIN_PATH}`) v.path = FULL_CHAIN_PATH;
  return v;
}

const BW_FULL = (c) => bwFullChain(c, 'bw-full', `breakwater full chain, ${NO_LOG_LABEL}`, NO_LOG);
const BW_FULL_LOG = (c) => bwFullChain(c, 'bw-full-log', `breakwater full chain, ${LOG_LABEL}`, WITH_LOG);
const BW_WORKERS2 = (c) =>
  variants.breakwater(
    c,
    'bw-workers2',
    `breakwater plain, workers: 2, ${NO_LOG_LABEL}`,
    [{ build: CONFIGS.workers2 }],
    NO_LOG,
  );

const ROUTES_1000 = (c) =>
  variants.breakwater(
    c,
    'bw-routes1000',
    `breakwater, 1,000 routes (request hits the last), ${NO_LOG_LABEL}`,
    [{ build: CONFIGS.routes1000 }],
    NO_LOG,
  );

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
    env: v.env,
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
  const specs = [bwPlain(), BW_FULL, BW_FULL_LOG, BW_WORKERS2];
  if (withRoutes) specs.push(ROUTES_1000);
  const list = await variants.startSet(ctx, { floor: true, breakwater: specs });
  const full = list.find((v) => v.id === 'bw-full');
  const rowList = await measure(ctx, 'tiny', list, '/');
  const notes = [];
  if (full?.path === FULL_CHAIN_PATH) {
    notes.push(
      `The full chain's load is \`GET ${FULL_CHAIN_PATH}\`: the same 13 bytes as \`GET /\`, plus ` +
        '`Cache-Control: no-store` from the origin, so its cache lookup misses on every request and nothing is stored.',
    );
  }
  const w = workersNote(rowList);
  if (w) notes.push(w);
  return {
    kind: 'load',
    ratioLabel: 'vs direct',
    floorLabel: FLOOR_RATIO,
    nodeVersion: ctx.node.version,
    rows: rowList,
    workers2VsPlain: workers2Ratio(rowList),
    note: notes.length ? notes.join('\n\n') : undefined,
  };
}

function workers2Ratio(rowList) {
  const rps = (id) => rowList.find((r) => r.id === id)?.summary?.rps;
  return stats.ratio(rps('bw-workers2'), rps('bw-plain'));
}

// workers: 2 vs 1, in the row and under the table, with the reason it says little here.
function workersNote(rowList) {
  const r = workers2Ratio(rowList);
  const row = rowList.find((x) => x.id === 'bw-workers2');
  if (r === null || !row) return null;
  row.note = [row.note, `${r.toFixed(2)}x plain`].filter(Boolean).join(', ');
  const cores = os.cpus().length;
  return (
    `\`workers: 2\` vs 1 (both without access log): ${r.toFixed(2)}x req/s. On this ${cores}-core machine ` +
    'the load generator and the upstream share the cores with the gateway, so a second worker finds no ' +
    'idle core: the ratio shows what the extra process costs or gains here, not what it does on a machine with cores to spare.'
  );
}

async function big(ctx) {
  const list = await variants.startSet(ctx, { floor: true, breakwater: [bwPlain()] });
  return {
    kind: 'load',
    ratioLabel: 'vs direct',
    floorLabel: FLOOR_RATIO,
    nodeVersion: ctx.node.version,
    rows: await measure(ctx, '64k', list, '/64k'),
  };
}

const ROUTES_RATIO = 'vs 1 route';

// Both breakwater processes, no peers: the question is only what the route table costs.
async function routes(ctx) {
  const list = await variants.startSet(ctx, {
    direct: false,
    peers: false,
    breakwater: [bwPlain(`breakwater, 1 route, ${NO_LOG_LABEL}`), ROUTES_1000],
  });
  return {
    kind: 'load',
    ratioLabel: ROUTES_RATIO,
    nodeVersion: ctx.node.version,
    rows: await measure(ctx, 'routes', list, '/', 'bw-plain'),
  };
}

/** Scenario 4 from scenario 1's rounds (run with withRoutes). */
function routesFromTiny(tinyResult) {
  const pick = (id) => tinyResult.rows.find((r) => r.id === id);
  const plain = { ...pick('bw-plain'), label: `breakwater, 1 route, ${NO_LOG_LABEL}`, vsBase: null };
  const many = pick('bw-routes1000');
  const vsBase = stats.ratio(many.summary?.rps, plain.summary?.rps);
  return {
    kind: 'load',
    ratioLabel: ROUTES_RATIO,
    nodeVersion: tinyResult.nodeVersion,
    note: "Measured within scenario 1's interleaved rounds (same warm-up, same rounds).",
    rows: [plain, { ...many, vsBase }],
  };
}

module.exports = { tiny, big, routes, routesFromTiny };

'use strict';
// breakwater under test: configs per variant (DESIGN.md shape), `validate` before use, and
// start/stop of `node dist/cli.js --config FILE`. Anything missing or rejected becomes a skip
// with the reason, so the bench runs before the gateway is finished.
const fs = require('node:fs');
const path = require('node:path');
const procs = require('./procs');
const yaml = require('./yaml');

const ROOT = path.join(__dirname, '..', '..');
// BENCH_BREAKWATER_CLI benchmarks another build (or a stand-in while dist/ does not exist).
const CLI = process.env.BENCH_BREAKWATER_CLI
  ? path.resolve(process.env.BENCH_BREAKWATER_CLI)
  : path.join(ROOT, 'dist', 'cli.js');

function available() {
  return fs.existsSync(CLI);
}

/** `breakwater --version` under the Node binary `nodeBin` (ctx.node.bin). */
async function version(nodeBin) {
  const r = await procs.run(nodeBin, [CLI, '--version'], { cwd: ROOT, timeoutMs: 10000 });
  return r.code === 0 ? r.stdout.trim().split('\n')[0] : null;
}

// ---- configs -------------------------------------------------------------------------------
// Each builder takes {port, adminPort, upstreamUrl, target} and returns a plain object.
// `target(url)` renders one target in the style validate accepted (see targetStyle()).

function base({ port, adminPort }) {
  return { version: 1, server: { listen: `127.0.0.1:${port}`, admin: { listen: `127.0.0.1:${adminPort}` } } };
}

function origin(p, extra = {}) {
  return { targets: [p.target(p.upstreamUrl)], ...extra };
}

const PLAIN_ROUTE = { name: 'plain', match: { pathPrefix: '/' }, upstream: 'origin' };

function plain(p) {
  return { ...base(p), upstreams: { origin: origin(p) }, routes: [PLAIN_ROUTE] };
}

// A real limit that is never reached (100 M per minute from one client IP): every request
// pays for the check and is still proxied.
const NEVER_HIT = { key: 'ip', limit: 100000000, window: '1m' };

/**
 * Every policy of a route at once. The cache block makes each request pay a cache lookup; the
 * full chain's load goes to /nostore, which the origin marks `Cache-Control: no-store`, so the
 * lookup misses and the request still goes upstream (nothing is ever stored).
 */
function fullChain(p, { rateLimit = true, cache = true } = {}) {
  const route = { ...PLAIN_ROUTE, retry: { attempts: 2 }, timeout: '5s' };
  if (rateLimit) route.rateLimit = { ...NEVER_HIT };
  if (cache) route.cache = { ttl: '1s' };
  const up = origin(p, { circuitBreaker: { volumeThreshold: 20 }, outlierDetection: {} });
  return { ...base(p), upstreams: { origin: up }, routes: [route] };
}

function workers2(p) {
  const cfg = plain(p);
  cfg.server.workers = 2;
  return cfg;
}

/**
 * One policy at a time on the plain route, for the policies scenario. rateLimit: the
 * never-hit limit; cache: `{ttl: 1h}` (GET / has no Cache-Control, so it is stored for an hour
 * and every later request is a hit); workers: server.workers; redisUrl: `redis.url`.
 */
function policy(p, { rateLimit = false, cache = false, workers, redisUrl } = {}) {
  const route = { ...PLAIN_ROUTE };
  if (rateLimit) route.rateLimit = { ...NEVER_HIT };
  if (cache) route.cache = { ttl: '1h' };
  const cfg = { ...base(p), upstreams: { origin: origin(p) }, routes: [route] };
  if (workers) cfg.server.workers = workers;
  if (redisUrl) cfg.redis = { url: redisUrl };
  return cfg;
}

// 999 prefixes that never match, then the catch-all: a request to / walks the whole table.
function routes1000(p) {
  const routes = [];
  for (let i = 0; i < 999; i++)
    routes.push({ name: `r${i}`, match: { pathPrefix: `/r${i}` }, upstream: 'origin' });
  return { ...base(p), upstreams: { origin: origin(p) }, routes: [...routes, PLAIN_ROUTE] };
}

// The default body limit (10mb in DESIGN's example) would turn a 1 GB upload into a 413.
function upload(p) {
  const cfg = plain(p);
  cfg.server.limits = { maxBodySize: '2048mb', requestTimeout: '10m' };
  return cfg;
}

// Breaker scenario: /dead goes to a port that refuses, `/` is proxied, on one process, so the
// fail-fast rate is measured interleaved with plain proxying on the same process.
function failFast(p) {
  const dead = {
    targets: [p.target(`http://127.0.0.1:${p.deadPort}`)],
    circuitBreaker: { volumeThreshold: 5, resetTimeout: '60s' },
  };
  const routes = [{ name: 'dead', match: { pathPrefix: '/dead' }, upstream: 'dead' }, PLAIN_ROUTE];
  return { ...base(p), upstreams: { origin: origin(p), dead }, routes };
}

// Rate-limit scenario: /limited allows 1 request per hour for everyone (key: route), spent
// before measuring, so every measured request there is a 429; `/` is proxied on the same process.
function rateLimited(p) {
  const limited = {
    name: 'limited',
    match: { pathPrefix: '/limited' },
    upstream: 'origin',
    rateLimit: { key: 'route', limit: 1, window: '1h' },
  };
  return { ...base(p), upstreams: { origin: origin(p) }, routes: [limited, PLAIN_ROUTE] };
}

const CONFIGS = { plain, fullChain, workers2, policy, routes1000, upload, failFast, rateLimited };

// ---- validate / start ---------------------------------------------------------------------

function writeConfig(dir, name, cfg) {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml.stringify(cfg, `generated by bench/run.js for variant "${name}"`));
  return file;
}

/** Runs `breakwater validate`; any non-zero exit (1 = invalid, 2 = usage) is a rejection. */
async function validate(ctx, name, cfg) {
  const file = writeConfig(ctx.tmp, name, cfg);
  const r = await procs.run(ctx.node.bin, [CLI, 'validate', file], { cwd: ROOT, timeoutMs: 20000 });
  const output = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(0, 4).join(' | ');
  return { ok: r.code === 0, code: r.code, output, file };
}

// Targets are plain URLs in the bench brief and `{url: ...}` objects in DESIGN.md's example;
// use whichever this build's validate takes so that the rest of the bench does not care.
async function targetStyle(ctx, ports) {
  const styles = [(url) => url, (url) => ({ url })];
  let last;
  for (const target of styles) {
    last = await validate(ctx, 'probe-targets', plain({ ...ports, target }));
    if (last.ok) return { target };
  }
  return { error: last.output };
}

/**
 * Starts breakwater with cfg under ctx.node.bin. Access logs go to stdout, which goes to
 * /dev/null: the gateway still formats and writes every line, only the terminal is spared.
 * stderr goes to a file. env: extra environment, e.g. NO_ACCESS_LOG (LOG_LEVEL=warn: info
 * access lines are not written; warn lines, 5xx and slow requests, still are).
 */
async function start(ctx, name, cfg, probePath = '/', env = {}) {
  const file = writeConfig(ctx.tmp, name, cfg);
  const stderrFile = path.join(ctx.tmp, `${name}.stderr.log`);
  const proc = procs.start({
    name,
    cmd: ctx.node.bin,
    args: [CLI, '--config', file],
    cwd: ROOT,
    env,
    stdoutFile: '/dev/null',
    stderrFile,
    nofile: ctx.nofile,
  });
  const url = `http://${cfg.server.listen}`;
  const r = await procs.waitHttp(url + probePath, { child: proc, timeoutMs: 20000 });
  if (r.ok) return { url, proc };
  await procs.stop(proc);
  return { skipped: `breakwater (${name}) did not start: ${r.why}. ${procs.tail(stderrFile, 3)}`.trim() };
}

/** The environments of the access-log variants: breakwater writes its access line at info. */
const NO_ACCESS_LOG = { LOG_LEVEL: 'warn' };
const ACCESS_LOG = { LOG_LEVEL: 'info' };

module.exports = {
  ROOT,
  CLI,
  available,
  version,
  CONFIGS,
  validate,
  targetStyle,
  start,
  NO_ACCESS_LOG,
  ACCESS_LOG,
};

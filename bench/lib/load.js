'use strict';
// HTTP load: wrk (C, one thread, so it takes at most one of the two cores) and autocannon as a
// fallback when wrk is missing. autocannon is Node.js and costs more CPU per request than
// wrk, so its figures are lower and the report says which generator ran.
const path = require('node:path');
const procs = require('./procs');
const { which } = require('./system');

const SUMMARY_LUA = path.join(__dirname, '..', 'wrk', 'summary.lua');
const AUTOCANNON = path.join(__dirname, '..', 'node_modules', 'autocannon', 'autocannon.js');

function generator() {
  const wrk = which('wrk');
  if (wrk) return { name: 'wrk', bin: wrk };
  return { name: 'autocannon', bin: AUTOCANNON };
}

function lastJsonLine(text) {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : null;
}

async function wrk(bin, { url, connections, threads, seconds }) {
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    SUMMARY_LUA,
    url,
  ];
  const r = await procs.run(bin, args, { timeoutMs: seconds * 1000 + 15000 });
  const s = lastJsonLine(r.stdout);
  if (!s) throw new Error(`wrk failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  const secs = s.duration_us / 1e6;
  return {
    requests: s.requests,
    seconds: secs,
    rps: s.requests / secs,
    p50Ms: s.p50 / 1000,
    p99Ms: s.p99 / 1000,
    socketErrors: s.connect + s.read + s.write + s.timeout,
    non2xx: s.status,
  };
}

async function autocannon(bin, { url, connections, seconds }) {
  const args = [bin, '-c', String(connections), '-d', String(seconds), '-j', url];
  const r = await procs.run(process.execPath, args, { timeoutMs: seconds * 1000 + 15000 });
  const s = lastJsonLine(r.stdout);
  if (!s) throw new Error(`autocannon failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`);
  return {
    requests: s.requests.total,
    seconds: s.duration,
    rps: s.requests.total / s.duration,
    p50Ms: s.latency.p50,
    p99Ms: s.latency.p99,
    socketErrors: s.errors + s.timeouts,
    non2xx: s.non2xx,
  };
}

/** One bounded load run against url; returns req/s, latency percentiles and error counts. */
function runLoad(gen, { url, seconds, connections = 50, threads = 1 }) {
  const opts = { url, connections, threads, seconds };
  return gen.name === 'wrk' ? wrk(gen.bin, opts) : autocannon(gen.bin, opts);
}

module.exports = { generator, runLoad };

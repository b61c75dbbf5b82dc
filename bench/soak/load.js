'use strict';
// HTTP load for the soak: autocannon at a fixed overall rate over a mix of paths, run in its own
// process so the runner's sampling does not share its event loop. Prints one JSON line a
// second with cumulative counts: {t, total, status: {code: n}, errors: {kind: n}}.
//
//   node bench/soak/load.js '{"url":"http://127.0.0.1:8080","rate":700,"connections":50,
//                             "seconds":600,"mix":[["/api",35],["/cached/{k}",30],…],"keys":20}'
const path = require('node:path');
const { setInterval, clearInterval, setTimeout } = require('node:timers');
const autocannon = require(path.join(__dirname, '..', 'node_modules', 'autocannon'));

const opts = JSON.parse(process.argv[2]);
const weights = opts.mix.reduce((s, [, w]) => s + w, 0);

function pick() {
  let r = Math.random() * weights;
  for (const [p, w] of opts.mix) {
    r -= w;
    if (r < 0) return p.replace('{k}', String(Math.floor(Math.random() * opts.keys)));
  }
  return opts.mix[0][0];
}

const counts = { total: 0, status: {}, errors: {} };
const t0 = Date.now();
const instance = autocannon({
  url: opts.url,
  connections: opts.connections,
  overallRate: opts.rate,
  duration: opts.seconds,
  timeout: 10,
  requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pick() }) }],
});
instance.on('response', (_client, statusCode) => {
  counts.total++;
  counts.status[statusCode] = (counts.status[statusCode] || 0) + 1;
});
instance.on('reqError', (err) => {
  counts.total++;
  const kind = (err && (err.code || err.message)) || 'error';
  counts.errors[kind] = (counts.errors[kind] || 0) + 1;
});
const emit = () => process.stdout.write(`${JSON.stringify({ t: (Date.now() - t0) / 1000, ...counts })}\n`);
const tick = setInterval(emit, 1000);
instance.on('done', () => {
  clearInterval(tick);
  emit();
  process.stdout.write('{"done":true}\n');
  setTimeout(() => process.exit(0), 100);
});
process.on('SIGTERM', () => {
  instance.stop();
});

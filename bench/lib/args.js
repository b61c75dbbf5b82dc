'use strict';
// Command line: node bench/run.js [--quick] [--scenario a,b] [--rounds N] [--duration S]
//                                 [--warmup S] [--node PATH] [--keep] [--help]

const SCENARIOS = ['tiny', '64k', 'upload', 'routes', 'idle', 'breaker', 'ratelimit', 'policies'];

const USAGE = `usage: node bench/run.js [options]
  --quick            1 round x 3 s, 100 MB upload, 2,000 idle connections (about 2 minutes)
  --scenario LIST    comma-separated subset of: ${SCENARIOS.join(', ')} (repeatable)
  --rounds N         interleaved rounds per load scenario (default 3; quick 1)
  --duration S       seconds per measured load run (default 8; quick 3)
  --warmup S         seconds of warm-up per variant (default 2; quick 1)
  --node PATH        Node binary for breakwater, the Node floor and the Node peers
                     (default: the node running this script)
  --keep             keep the temp dir (generated configs, logs of every server)
  --help             this text`;

function positive(name, value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} expects a positive number, got "${value}"`);
  return n;
}

function nonEmpty(name, value) {
  if (value === undefined || value === '') throw new Error(`${name} expects a value`);
  return String(value);
}

function parse(argv) {
  const o = { quick: false, scenarios: [], keep: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--quick') o.quick = true;
    else if (flag === '--keep') o.keep = true;
    else if (flag === '--help' || flag === '-h') o.help = true;
    else if (flag === '--scenario') o.scenarios.push(...String(value()).split(','));
    else if (flag === '--rounds') o.rounds = Math.round(positive(flag, value()));
    else if (flag === '--duration') o.seconds = Math.round(positive(flag, value()));
    else if (flag === '--warmup') o.warmup = Math.round(positive(flag, value()));
    else if (flag === '--node') o.node = nonEmpty(flag, value());
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const unknown = o.scenarios.filter((s) => !SCENARIOS.includes(s));
  if (unknown.length)
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  if (!o.scenarios.length) o.scenarios = [...SCENARIOS];
  o.rounds ??= o.quick ? 1 : 3;
  o.seconds ??= o.quick ? 3 : 8;
  o.warmup ??= o.quick ? 1 : 2;
  o.uploadBytes = o.quick ? 100 * 2 ** 20 : 2 ** 30;
  o.idleConnections = o.quick ? 2000 : 10000;
  return o;
}

module.exports = { parse, USAGE, SCENARIOS };

'use strict';
// Soak test (issue 9 §6): the built gateway under moderate mixed load for N minutes, with faults
// injected on a schedule, sampled every 5 s for memory, fds and event-loop lag. Not in CI.
//
//   npm run build && node bench/soak/run.js [--minutes 10] [--quick] [--rate 700] [--ws 30]
//                                           [--max-slope 2] [--keep]
//
// See bench/README.md, "Soak". Writes bench/results/soak.md and soak.json; a missed check
// prints ✗ and the run still exits 0 (like the benchmark); a usage error exits 2.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { setTimeout } = require('node:timers');
const procs = require('../lib/procs');
const yaml = require('../lib/yaml');
const bw = require('../lib/breakwater');
const { wsClients } = require('./ws-clients');

const USAGE = `usage: node bench/soak/run.js [options]
  --minutes N      load duration (default 10)
  --quick          2 minutes (one fault cycle), for checking that it works
  --rate R         HTTP requests per second, fixed (default 700)
  --connections C  HTTP connections (default 50)
  --ws N           WebSocket clients, each opening and closing in turn (default 30)
  --max-slope M    RSS growth over the second half that fails the check, MB/min (default 2)
  --keep           keep the temp dir (config, gateway log, origin log)
  --help           this text`;

function parseArgs(argv) {
  const o = { minutes: 10, rate: 700, connections: 50, ws: 30, maxSlope: 2, keep: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const num = () => {
      const v = Number(inline !== undefined ? inline : argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} expects a positive number`);
      return v;
    };
    if (flag === '--quick') o.quick = true;
    else if (flag === '--keep') o.keep = true;
    else if (flag === '--help' || flag === '-h') o.help = true;
    else if (flag === '--minutes') o.minutes = num();
    else if (flag === '--rate') o.rate = Math.round(num());
    else if (flag === '--connections') o.connections = Math.round(num());
    else if (flag === '--ws') o.ws = Math.round(num());
    else if (flag === '--max-slope') o.maxSlope = num();
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (o.quick && !argv.some((a) => a.startsWith('--minutes'))) o.minutes = 2;
  return o;
}

const SAMPLE_MS = 5000;
const FD_SLACK = 5; // fds above the pre-load baseline still counted as "back to baseline"
const COOLDOWN_MS = 30000; // how long the fds get to come back after the load stops
const RELOAD_EVERY_S = 30;
const RELOAD_WAIT_MS = 10000; // how long /probe is polled for the new generation after a write
// One fault cycle (seconds from its start); cycles repeat every CYCLE_S from t = 10 s.
const CYCLE_S = 120;
const FAULTS = [
  { at: 5, mode: '503', seconds: 8, what: 'origin answers 503' },
  { at: 25, mode: 'hang', seconds: 6, what: 'origin accepts and never answers' },
  { at: 45, mode: 'reset', seconds: 6, what: 'origin resets every connection' },
  { at: 65, mode: 'down', seconds: 10, what: 'origin down (listener closed, sockets destroyed)' },
];

const MIX = [
  ['/api/items', 35],
  ['/cached/{k}', 30],
  ['/fallback/x', 15],
  ['/limited/x', 20],
];

// ---- config -----------------------------------------------------------------------------------

function gatewayConfig({ port, adminPort, originUrl, gen }) {
  return {
    version: 1,
    server: {
      listen: `127.0.0.1:${port}`,
      admin: { listen: `127.0.0.1:${adminPort}` },
      cache: { maxSize: '16mb' },
    },
    upstreams: {
      origin: {
        targets: [originUrl],
        connect: { timeout: '1s' },
        circuitBreaker: {
          errorThresholdPercentage: 50,
          volumeThreshold: 20,
          window: '10s',
          resetTimeout: '5s',
        },
      },
    },
    routes: [
      {
        name: 'api',
        match: { pathPrefix: '/api' },
        upstream: 'origin',
        timeout: '2s',
        retry: {
          attempts: 3,
          perTryTimeout: '500ms',
          on: ['connect-failure', 'reset', 'timeout', 502, 503, 504],
        },
      },
      {
        name: 'cached',
        match: { pathPrefix: '/cached' },
        upstream: 'origin',
        timeout: '2s',
        retry: { attempts: 2, perTryTimeout: '800ms' },
        cache: { ttl: '1s', staleIfError: '10m' },
      },
      {
        name: 'fallback',
        match: { pathPrefix: '/fallback' },
        upstream: 'origin',
        timeout: '1s',
        fallback: {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"degraded":true}',
          on: ['circuit-open', 'no-healthy-upstream', 'overloaded', 'timeout', 'unavailable', '5xx'],
        },
      },
      {
        name: 'limited',
        match: { pathPrefix: '/limited' },
        upstream: 'origin',
        timeout: '2s',
        rateLimit: { key: 'ip', limit: 100, window: '1s' },
      },
      // The reload marker: each reload sets another X-Soak-Gen, so the runner sees it applied.
      {
        name: 'probe',
        match: { pathPrefix: '/probe' },
        upstream: 'origin',
        timeout: '2s',
        headers: { response: { set: { 'x-soak-gen': String(gen) } } },
      },
      { name: 'ws', match: { pathPrefix: '/ws', methods: ['GET'] }, upstream: 'origin', websocket: true },
    ],
  };
}

// ---- helpers ----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readStatus(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function post(url) {
  return new Promise((resolve) => {
    const req = require('node:http').request(url, { method: 'POST', agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Prometheus text → {name: sum over label sets}, plus raw lines for a few label lookups. */
function parseMetrics(text) {
  const sums = {};
  const lines = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    sums[m[1]] = (sums[m[1]] || 0) + v;
    lines.push({ name: m[1], labels: m[2] || '', value: v });
  }
  return { sums, lines };
}

async function metrics(adminUrl) {
  const r = await procs.httpStatus(`${adminUrl}/metrics`, 2000);
  return r.status === 200 ? parseMetrics(r.body) : null;
}

function lagMs(m) {
  if (!m) return null;
  const v = m.sums.nodejs_eventloop_lag_p99_seconds ?? m.sums.nodejs_eventloop_lag_seconds;
  return v === undefined ? null : v * 1000;
}

function slope(points) {
  // least squares, x in minutes, y in MB
  const n = points.length;
  if (n < 3) return null;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : null;
}

function percentile(values, p) {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return null;
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const int = (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));

function diffCounts(now, before) {
  const out = {};
  for (const [k, v] of Object.entries(now || {})) {
    const d = v - ((before || {})[k] || 0);
    if (d) out[k] = d;
  }
  return out;
}

const TCP_STATES = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/**
 * The gateway's open sockets after the cool-down, from /proc/PID/fd and /proc/net/tcp{,6}:
 * what a leaked fd is (a client connection, an upstream one, its TCP state).
 */
function openSockets(pid, { port, adminPort, originPort }) {
  const inodes = new Set();
  let other = 0;
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
        else other++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return null;
  }
  const role = (local, remote) => {
    if (local === port) return 'client→proxy';
    if (local === adminPort) return 'client→admin';
    if (remote === originPort) return 'proxy→origin';
    return 'other';
  };
  const found = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (!inodes.has(f[9])) continue;
      inodes.delete(f[9]);
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      const state = TCP_STATES[f[3]] || f[3];
      if (state === 'LISTEN') continue;
      found.push({
        role: role(local, remote),
        state,
        local,
        remote,
        recvQ: parseInt(f[4].split(':')[1], 16),
      });
    }
  }
  return { tcp: found, otherSockets: inodes.size, nonSocketFds: other };
}

/** Streams the gateway's log: access lines counted by level, everything else grouped by msg. */
async function summarizeLog(file) {
  const out = { accessLines: 0, accessByLevel: {}, events: {}, errors: [], unparsed: 0 };
  if (!fs.existsSync(file)) return out;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let j;
    try {
      j = JSON.parse(line);
    } catch {
      out.unparsed++;
      continue;
    }
    const level =
      { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[j.level] || j.level;
    if (j.status !== undefined && j.method !== undefined && j.reqId !== undefined) {
      out.accessLines++;
      out.accessByLevel[level] = (out.accessByLevel[level] || 0) + 1;
      continue;
    }
    const key = `${level}: ${j.msg}`;
    out.events[key] = (out.events[key] || 0) + 1;
    if ((typeof j.level === 'number' && j.level >= 50) || level === 'error' || level === 'fatal') {
      if (out.errors.length < 20) out.errors.push(line.slice(0, 600));
    }
  }
  return out;
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  procs.installSignalHandlers();
  if (!bw.available()) {
    process.stderr.write(`no ${bw.CLI}: run \`npm run build\` at the repo root first\n`);
    process.exit(1);
  }
  if (!fs.existsSync(path.join(__dirname, '..', 'node_modules', 'autocannon'))) {
    process.stdout.write('bench/node_modules missing: npm ci --prefix bench\n');
    const r = await procs.run(
      'npm',
      ['ci', '--prefix', path.join(__dirname, '..'), '--no-audit', '--no-fund'],
      {
        timeoutMs: 300000,
      },
    );
    if (r.code !== 0) throw new Error(`npm ci --prefix bench failed: ${r.stderr.slice(-500)}`);
  }

  const seconds = Math.round(opts.minutes * 60);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'breakwater-soak-'));
  const [port, adminPort, originPort, controlPort] = [
    await procs.freePort(),
    await procs.freePort(),
    await procs.freePort(),
    await procs.freePort(),
  ];
  const originUrl = `http://127.0.0.1:${originPort}`;
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  const url = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  // The config gets a directory of its own: the gateway watches the config's directory, and
  // its log (written every 100 ms) must not be in it (see "Soak" in bench/README.md).
  fs.mkdirSync(path.join(tmp, 'config'));
  const cfgFile = path.join(tmp, 'config', 'gateway.yaml');
  const logFile = path.join(tmp, 'gateway.log');
  const errFile = path.join(tmp, 'gateway.stderr.log');
  let gen = 0;
  const writeConfig = () =>
    fs.writeFileSync(
      cfgFile,
      yaml.stringify(
        gatewayConfig({ port, adminPort, originUrl, gen }),
        `bench/soak/run.js, generation ${gen}`,
      ),
    );
  writeConfig();

  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0] && os.cpus()[0].model,
    loadStart: os.loadavg()[0],
    gateway: await bw.version(),
  };
  const v = await procs.run(process.execPath, [bw.CLI, 'validate', cfgFile], {
    cwd: bw.ROOT,
    timeoutMs: 20000,
  });
  if (v.code !== 0) throw new Error(`validate refused the soak config:\n${v.stdout}${v.stderr}`);

  const origin = procs.start({
    name: 'origin',
    cmd: process.execPath,
    args: [path.join(__dirname, 'origin.js'), String(originPort), String(controlPort)],
    stderrFile: path.join(tmp, 'origin.stderr.log'),
  });
  const o = await procs.waitHttp(`${controlUrl}/stats`, { child: origin, timeoutMs: 10000 });
  if (!o.ok) throw new Error(`origin did not start: ${o.why}`);

  let t0 = Date.now();
  let stopping = false;
  const gw = procs.start({
    name: 'breakwater',
    cmd: process.execPath,
    args: [bw.CLI, '--config', cfgFile],
    cwd: bw.ROOT,
    stdoutFile: logFile,
    stderrFile: errFile,
  });
  const g = await procs.waitHttp(`${url}/probe`, { child: gw, timeoutMs: 20000 });
  if (!g.ok) throw new Error(`gateway did not start: ${g.why}\n${procs.tail(errFile)}`);
  let died = null;
  gw.on('exit', (code, signal) => {
    if (!died && !stopping) died = { code, signal, at: (Date.now() - t0) / 1000 };
  });

  await sleep(1000);
  const m0 = await metrics(adminUrl);
  const baseline = {
    rssMB: readStatus(gw.pid, 'VmRSS'),
    fds: fdCount(gw.pid),
    handles: m0 && m0.sums.nodejs_active_handles,
  };
  process.stdout.write(
    `soak: ${opts.minutes} min at ${opts.rate} req/s (${opts.connections} connections) + ${opts.ws} WebSocket ` +
      `clients; gateway pid ${gw.pid}, RSS ${fmt(baseline.rssMB)} MB, ${baseline.fds} fds; temp ${tmp}\n`,
  );

  // ---- schedule -------------------------------------------------------------------------------
  const events = [];
  for (let c = 10; c < seconds; c += CYCLE_S)
    for (const f of FAULTS) if (c + f.at + f.seconds <= seconds - 10) events.push({ ...f, at: c + f.at });
  const reloadsAt = [];
  for (let t = RELOAD_EVERY_S; t <= seconds - 5; t += RELOAD_EVERY_S) reloadsAt.push(t);

  t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  let mode = 'ok';
  const faultLog = [];
  const reloads = [];
  const reloadChecks = [];

  const ws = wsClients({ url: url.replace('http', 'ws'), count: opts.ws });
  const loader = procs.start({
    name: 'load',
    cmd: process.execPath,
    args: [
      path.join(__dirname, 'load.js'),
      JSON.stringify({ url, rate: opts.rate, connections: opts.connections, seconds, mix: MIX, keys: 20 }),
    ],
    stderrFile: path.join(tmp, 'load.stderr.log'),
    pipes: true,
  });
  let load = { total: 0, status: {}, errors: {} };
  let loadDone = false;
  readline.createInterface({ input: loader.stdout }).on('line', (line) => {
    try {
      const j = JSON.parse(line);
      if (j.done) loadDone = true;
      else load = j;
    } catch {
      // not ours
    }
  });
  const loaderExited = new Promise((r) => loader.once('exit', r));

  const schedule = (async () => {
    const pending = [
      ...events.flatMap((e) => [
        { at: e.at, run: () => setMode(e.mode, e) },
        { at: e.at + e.seconds, run: () => setMode('ok') },
      ]),
      // not awaited: a reload's check (up to RELOAD_WAIT_MS) must not hold back the faults
      ...reloadsAt.map((at) => ({ at, run: () => void reloadChecks.push(reload()) })),
    ].sort((a, b) => a.at - b.at);
    for (const p of pending) {
      while (elapsed() < p.at) {
        if (loadDone || died) return;
        await sleep(100);
      }
      if (loadDone || died) return;
      await p.run();
    }
  })();

  async function setMode(next, e) {
    const code = await post(`${controlUrl}/mode/${next}`);
    mode = next;
    if (e) faultLog.push({ at: Math.round(elapsed()), mode: next, seconds: e.seconds, ok: code === 200 });
    process.stdout.write(`  t=${Math.round(elapsed())}s origin → ${next}${e ? ` (${e.seconds} s)` : ''}\n`);
  }

  async function reload() {
    gen++;
    const at = elapsed();
    writeConfig();
    let applied = null;
    let seen;
    const deadline = Date.now() + RELOAD_WAIT_MS;
    while (Date.now() < deadline) {
      const r = await procs.httpStatus(`${url}/probe`, 1000);
      seen = r.headers ? r.headers['x-soak-gen'] : r.error;
      if (r.headers && r.headers['x-soak-gen'] === String(gen)) {
        applied = elapsed() - at;
        break;
      }
      await sleep(100);
    }
    reloads.push({
      gen,
      at: Math.round(at),
      appliedAfterS: applied === null ? null : Number(applied.toFixed(2)),
      lastSeen: seen,
    });
  }

  // ---- sampling -------------------------------------------------------------------------------
  const samples = [];
  let prevLoad = { total: 0, status: {}, errors: {} };
  let prevT = 0;
  async function sample(phase) {
    const t = elapsed();
    const m = await metrics(adminUrl);
    const s = {
      t: Number(t.toFixed(1)),
      phase,
      mode,
      rssMB: readStatus(gw.pid, 'VmRSS'),
      fds: fdCount(gw.pid),
      lagP99Ms: lagMs(m),
      heapMB:
        m && m.sums.nodejs_heap_size_used_bytes !== undefined
          ? m.sums.nodejs_heap_size_used_bytes / 2 ** 20
          : null,
      handles: m ? (m.sums.nodejs_active_handles ?? null) : null,
      wsGateway: m ? (m.sums.breakwater_websocket_connections ?? 0) : null,
      wsClientsOpen: ws.stats.open,
      cacheMB:
        m && m.sums.breakwater_cache_bytes !== undefined ? m.sums.breakwater_cache_bytes / 2 ** 20 : null,
      breakerOpen: m
        ? m.lines.filter((l) => l.name === 'breakwater_circuit_state' && l.value === 2).length
        : null,
      rps: t > prevT ? (load.total - prevLoad.total) / (t - prevT) : 0,
      status: diffCounts(load.status, prevLoad.status),
      errors: diffCounts(load.errors, prevLoad.errors),
    };
    prevLoad = load;
    prevT = t;
    samples.push(s);
    const st = Object.entries(s.status)
      .map(([k, n]) => `${k}:${n}`)
      .join(' ');
    const er = Object.entries(s.errors)
      .map(([k, n]) => `${k}:${n}`)
      .join(' ');
    process.stdout.write(
      `  t=${String(Math.round(t)).padStart(4)}s ${phase.padEnd(8)} ${mode.padEnd(5)} RSS ${fmt(s.rssMB)} MB  ` +
        `fds ${s.fds}  lag p99 ${fmt(s.lagP99Ms)} ms  ${fmt(s.rps, 0)} req/s  ws ${s.wsGateway}  ${st}${er ? `  errors ${er}` : ''}\n`,
    );
    return s;
  }

  while (!loadDone && !died && elapsed() < seconds + 20) {
    const next = t0 + (samples.length + 1) * SAMPLE_MS;
    while (Date.now() < next && !loadDone && !died) await sleep(100);
    if (loadDone || died) break;
    await sample('load');
  }
  await schedule;
  await Promise.all(reloadChecks);
  await Promise.race([loaderExited, sleep(5000)]);
  await procs.stop(loader);
  await setMode('ok');
  const wsLeft = await ws.stop();
  const loadEnd = elapsed();

  // ---- cool-down: do the fds come back? ----------------------------------------------------------
  let fdsBackAfterS = null;
  if (!died) {
    await sample('stopped');
    const until = Date.now() + COOLDOWN_MS;
    while (Date.now() < until && !died) {
      const f = fdCount(gw.pid);
      if (f !== null && f <= baseline.fds + FD_SLACK) {
        fdsBackAfterS = Number((elapsed() - loadEnd).toFixed(1));
        break;
      }
      await sleep(500);
    }
    await sleep(2000);
  }
  const final = died ? null : await sample('cooldown');
  const mEnd = died ? null : await metrics(adminUrl);
  const leftover = died ? null : openSockets(gw.pid, { port, adminPort, originPort });
  const originStats = JSON.parse((await procs.httpStatus(`${controlUrl}/stats`, 2000)).body || '{}');

  stopping = true;
  const gwExit = new Promise((r) => (gw.exited ? r(gw.exitCode_) : gw.once('exit', (c, s) => r(c ?? s))));
  await procs.stop(gw, 15000);
  const exitCode = died ? null : await Promise.race([gwExit, sleep(1000).then(() => 'unknown')]);
  await procs.stop(origin);
  const log = await summarizeLog(logFile);
  const stderrTail = procs.tail(errFile, 20);

  // ---- summary --------------------------------------------------------------------------------
  const loadSamples = samples.filter((s) => s.phase === 'load');
  const half = seconds / 2;
  const secondHalf = loadSamples
    .filter((s) => s.t >= half && s.rssMB !== null)
    .map((s) => [s.t / 60, s.rssMB]);
  const rssSlope = slope(secondHalf);
  const rssValues = samples.map((s) => s.rssMB).filter((x) => x !== null);
  const fdValues = samples.map((s) => s.fds).filter((x) => x !== null);
  const lags = loadSamples.map((s) => s.lagP99Ms);
  const reloadsMetric = {};
  if (mEnd)
    for (const l of mEnd.lines.filter((x) => x.name === 'breakwater_config_reloads_total')) {
      const r = /result="([^"]+)"/.exec(l.labels);
      reloadsMetric[r ? r[1] : '?'] = l.value;
    }
  const gwRequests = {};
  if (mEnd)
    for (const l of mEnd.lines.filter((x) => x.name === 'breakwater_requests_total')) {
      const r = /route="([^"]+)".*code="([^"]+)"|code="([^"]+)".*route="([^"]+)"/.exec(l.labels);
      if (r) {
        const key = `${r[1] || r[4]} ${r[2] || r[3]}`;
        gwRequests[key] = (gwRequests[key] || 0) + l.value;
      }
    }

  const summary = {
    rssStartMB: baseline.rssMB,
    rssEndMB: final ? final.rssMB : null,
    rssMaxMB: rssValues.length ? Math.max(...rssValues) : null,
    rssSlopeSecondHalfMBPerMin: rssSlope,
    fdsStart: baseline.fds,
    fdsEnd: final ? final.fds : null,
    fdsMax: fdValues.length ? Math.max(...fdValues) : null,
    fdsBackAfterS,
    lagP99MaxMs: lags.length ? Math.max(...lags.filter((x) => x !== null)) : null,
    lagP99MedianMs: percentile(lags, 50),
    handlesStart: baseline.handles,
    handlesEnd: final ? final.handles : null,
    wsGatewayEnd: final ? final.wsGateway : null,
    requests: load.total,
    rpsAvg: load.total / Math.max(1, loadEnd),
    status: load.status,
    errors: load.errors,
    ws: { ...ws.stats, notClosedAtStop: wsLeft },
    reloadsWritten: reloads.length,
    reloadsApplied: reloads.filter((r) => r.appliedAfterS !== null).length,
    reloadApplyMaxS: Math.max(0, ...reloads.map((r) => r.appliedAfterS || 0)),
    reloadsMetric,
    died,
    exitCodeOnSigterm: exitCode,
    socketsAtEnd: leftover,
  };
  const checks = [
    {
      name: 'the gateway stayed up',
      ok: !died,
      detail: died ? `died at t=${died.at}s (${died.code ?? died.signal})` : `exit ${exitCode} on SIGTERM`,
    },
    {
      name: `RSS slope over the second half <= ${opts.maxSlope} MB/min`,
      ok: rssSlope !== null && rssSlope <= opts.maxSlope,
      detail: `${fmt(rssSlope, 2)} MB/min over ${secondHalf.length} samples${opts.minutes < 5 ? ' (short run: indicative only)' : ''}`,
    },
    {
      name: `fds back to baseline (+${FD_SLACK}) within ${COOLDOWN_MS / 1000} s after the load`,
      ok: fdsBackAfterS !== null,
      detail: `start ${baseline.fds}, end ${summary.fdsEnd}, max ${summary.fdsMax}${fdsBackAfterS !== null ? `, back after ${fdsBackAfterS} s` : ''}`,
    },
    {
      name: 'WebSocket gauge back to 0 after the clients closed',
      ok: summary.wsGatewayEnd === 0,
      detail: `breakwater_websocket_connections = ${summary.wsGatewayEnd}`,
    },
    {
      name: 'every reload applied',
      ok: reloads.length > 0 && summary.reloadsApplied === reloads.length,
      detail: `${summary.reloadsApplied}/${reloads.length} seen on /probe (slowest ${fmt(summary.reloadApplyMaxS, 2)} s); metric ${JSON.stringify(reloadsMetric)}`,
    },
  ];
  machine.loadEnd = os.loadavg()[0];

  const report = renderMarkdown({
    opts,
    seconds,
    machine,
    summary,
    checks,
    samples,
    faultLog,
    reloads,
    log,
    stderrTail,
    originStats,
    gwRequests,
  });
  const resultsDir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'soak.md'), report);
  fs.writeFileSync(
    path.join(resultsDir, 'soak.json'),
    `${JSON.stringify({ date: new Date().toISOString(), opts, machine, summary, checks, faults: faultLog, reloads, log, stderrTail, originStats, gatewayRequests: gwRequests, samples }, null, 1)}\n`,
  );
  process.stdout.write(`\n${report}\nwritten: bench/results/soak.md, bench/results/soak.json\n`);
  if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`kept: ${tmp}\n`);
}

function renderMarkdown({
  opts,
  seconds,
  machine,
  summary: s,
  checks,
  samples,
  faultLog,
  reloads,
  log,
  stderrTail,
  originStats,
  gwRequests,
}) {
  const L = [];
  L.push(`# breakwater soak (${opts.minutes} min${opts.quick ? ', quick' : ''})`, '');
  L.push(
    `${new Date().toISOString()} · ${machine.gateway || 'breakwater'} · Node ${machine.node} · ${machine.cpus} cores (${machine.cpuModel}) · ` +
      `load average ${fmt(machine.loadStart, 2)} at start, ${fmt(machine.loadEnd, 2)} at end`,
    '',
    `Load: autocannon at ${opts.rate} req/s over ${opts.connections} connections for ${seconds} s (` +
      MIX.map(([p, w]) => `${w}% ${p}`).join(', ') +
      `), plus ${opts.ws} WebSocket clients opening, echoing and closing in turn. Faults every ${CYCLE_S} s from t = 10 s: ` +
      FAULTS.map((f) => `${f.mode} ${f.seconds} s at +${f.at} s`).join(', ') +
      `; a config reload every ${RELOAD_EVERY_S} s.`,
    '',
  );
  L.push('## Checks', '', '| | check | measured |', '|---|---|---|');
  for (const c of checks) L.push(`| ${c.ok ? '✓' : '✗'} | ${c.name} | ${c.detail} |`);
  L.push('', '## Summary', '', '| figure | value |', '|---|---|');
  L.push(`| RSS start / end / max | ${fmt(s.rssStartMB)} / ${fmt(s.rssEndMB)} / ${fmt(s.rssMaxMB)} MB |`);
  L.push(`| RSS slope, second half | ${fmt(s.rssSlopeSecondHalfMBPerMin, 2)} MB/min |`);
  L.push(`| fds start / end / max | ${s.fdsStart} / ${s.fdsEnd ?? '–'} / ${s.fdsMax ?? '–'} |`);
  L.push(
    `| event-loop lag p99 (per 5 s sample): median / max | ${fmt(s.lagP99MedianMs)} / ${fmt(s.lagP99MaxMs)} ms |`,
  );
  L.push(`| active handles start / end | ${s.handlesStart ?? '–'} / ${s.handlesEnd ?? '–'} |`);
  L.push(`| requests (avg req/s) | ${int(s.requests)} (${fmt(s.rpsAvg, 0)}) |`);
  L.push(
    `| per status | ${Object.entries(s.status)
      .sort()
      .map(([k, n]) => `${k}: ${int(n)}`)
      .join(', ')} |`,
  );
  L.push(
    `| client errors | ${
      Object.entries(s.errors)
        .map(([k, n]) => `${k}: ${int(n)}`)
        .join(', ') || 'none'
    } |`,
  );
  L.push(
    `| WebSockets | ${int(s.ws.opened)} opened, ${int(s.ws.openFailed)} failed to open, ${int(s.ws.echoed)}/${int(s.ws.sent)} echoes, ` +
      `${s.ws.mismatched} mismatched, ${s.ws.closedByPeer} closed by the far end (${JSON.stringify(s.ws.closeCodes)}) |`,
  );
  L.push(
    `| reloads | ${s.reloadsApplied}/${s.reloadsWritten} applied, slowest ${fmt(s.reloadApplyMaxS, 2)} s |`,
  );
  if (s.socketsAtEnd)
    L.push(
      `| TCP sockets open after the cool-down (listeners aside) | ${
        s.socketsAtEnd.tcp.map((t) => `${t.role} ${t.state} :${t.local}→:${t.remote}`).join(', ') || 'none'
      }; ${s.socketsAtEnd.otherSockets} other sockets, ${s.socketsAtEnd.nonSocketFds} other fds |`,
    );
  L.push(`| gateway exit on SIGTERM | ${s.died ? `died: ${JSON.stringify(s.died)}` : s.exitCodeOnSigterm} |`);
  L.push('', '## Gateway view', '', '`breakwater_requests_total` by route and code:', '');
  L.push(
    Object.entries(gwRequests)
      .sort()
      .map(([k, n]) => `\`${k}\`: ${int(n)}`)
      .join(', ') || '–',
  );
  L.push('', `Origin: ${JSON.stringify(originStats)}`, '');
  L.push(
    `Log: ${int(log.accessLines)} access lines (${JSON.stringify(log.accessByLevel)}), ${log.unparsed} unparsed; other lines:`,
    '',
  );
  for (const [k, n] of Object.entries(log.events)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25))
    L.push(`- ${n} × ${k}`);
  if (log.errors.length) {
    L.push('', 'Error lines (first 20):', '', '```');
    L.push(...log.errors);
    L.push('```');
  }
  if (stderrTail) L.push('', 'stderr (tail):', '', '```', stderrTail, '```');
  L.push(
    '',
    '## Faults',
    '',
    faultLog.map((f) => `t=${f.at}s ${f.mode} ${f.seconds}s${f.ok ? '' : ' (control failed)'}`).join(' · ') ||
      '–',
  );
  L.push(
    '',
    `Reloads (t → applied after s): ${reloads.map((r) => `${r.at}→${r.appliedAfterS ?? `✗ (saw ${r.lastSeen})`}`).join(', ') || '–'}`,
  );
  L.push('', '## Samples (every 30 s; all in soak.json)', '');
  L.push(
    '| t s | phase | origin | RSS MB | heap MB | fds | lag p99 ms | req/s | ws open | breakers open | statuses | errors |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of samples.filter((x, i) => i % 6 === 5 || x.phase !== 'load')) {
    L.push(
      `| ${Math.round(x.t)} | ${x.phase} | ${x.mode} | ${fmt(x.rssMB)} | ${fmt(x.heapMB)} | ${x.fds} | ${fmt(x.lagP99Ms)} | ${fmt(x.rps, 0)} | ${x.wsGateway} | ${x.breakerOpen} | ` +
        `${Object.entries(x.status)
          .map(([k, n]) => `${k}:${n}`)
          .join(' ')} | ${Object.entries(x.errors)
          .map(([k, n]) => `${k}:${n}`)
          .join(' ')} |`,
    );
  }
  L.push('');
  return L.join('\n');
}

main().catch(async (e) => {
  process.stderr.write(`soak: ${e.stack || e.message}\n`);
  await procs.stopAll();
  process.exit(1);
});

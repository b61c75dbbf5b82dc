'use strict';
// Starts every server and load generator in its own process group and remembers it, so that
// one kill(-pgid) stops a process with all its children (nginx workers, cluster workers), and
// so that Ctrl-C or a crash of the runner never leaves a proxy listening behind it.
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const { spawn } = require('node:child_process');
const { setTimeout, clearTimeout } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');

const live = new Set();

/**
 * Spawns `cmd args` detached (own process group). stdout/stderr go to files (or 'ignore'),
 * never to pipes we might stop reading, which would block the child once the pipe fills.
 * `nofile`: soft open-files limit to set first (through bash's ulimit). `pipes`: stdin and
 * stdout as pipes, for the small client scripts that talk to the runner line by line.
 */
function start({ name, cmd, args = [], cwd, env, stdoutFile, stderrFile, nofile, pipes = false }) {
  const out = stdoutFile ? fs.openSync(stdoutFile, 'a') : 'ignore';
  const err = stderrFile ? fs.openSync(stderrFile, 'a') : 'ignore';
  const [file, argv] = nofile
    ? ['bash', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, cmd, ...args]]
    : [cmd, args];
  const child = spawn(file, argv, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: pipes ? ['pipe', 'pipe', err] : ['ignore', out, err],
  });
  for (const fd of [out, err]) if (typeof fd === 'number') fs.closeSync(fd);
  child.benchName = name;
  child.exited = false;
  live.add(child);
  child.on('exit', (code, signal) => {
    child.exited = true;
    child.exitCode_ = code ?? signal;
    live.delete(child);
  });
  child.on('error', () => {
    child.exited = true;
    live.delete(child);
  });
  return child;
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

// A timer that does not keep the runner alive once everything else is done (the child's own
// handle keeps the loop alive for as long as we are waiting for it).
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** SIGTERM the group, SIGKILL it if it is still there after graceMs. */
async function stop(child, graceMs = 3000) {
  if (!child || child.exited) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killGroup(child, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), delay(graceMs).then(() => true)]);
  if (timedOut) {
    killGroup(child, 'SIGKILL');
    await Promise.race([exited, delay(1000)]);
  }
  // The group may outlive its leader (e.g. a worker that ignored SIGTERM): make sure.
  killGroup(child, 'SIGKILL');
}

async function stopAll() {
  await Promise.all([...live].map((c) => stop(c)));
}

// Synchronous, for 'exit' and signal handlers where no await is possible.
function killAllNow() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

function installSignalHandlers(onInterrupt) {
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping ${live.size} process group(s)\n`);
      killAllNow();
      if (onInterrupt) onInterrupt();
      process.exit(130);
    });
  }
}

/** Runs a command to completion and collects its output (bounded by timeoutMs). */
function run(cmd, args, { timeoutMs = 60000, cwd, env, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
    const finish = (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    };
    child.on('error', (e) => finish(e.code === 'ENOENT' ? 127 : -1));
    child.on('exit', (code, signal) => finish(code ?? signal));
  });
}

/** Free TCP port on 127.0.0.1 (bind to 0, read it, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.code || e.message }));
  });
}

/** Polls url until it answers `want` (default: any status), the child dies, or timeoutMs. */
async function waitHttp(url, { child, timeoutMs = 15000, want } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0 };
  while (Date.now() < deadline) {
    if (child && child.exited) return { ok: false, why: `exited (${child.exitCode_})`, last };
    last = await httpStatus(url, 1000);
    if (last.status && (!want || last.status === want)) return { ok: true, last };
    await sleep(100);
  }
  return { ok: false, why: `not ready after ${timeoutMs} ms (last: ${last.status || last.error})`, last };
}

function tail(file, lines = 8) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

module.exports = {
  start,
  stop,
  stopAll,
  killAllNow,
  installSignalHandlers,
  run,
  freePort,
  httpStatus,
  waitHttp,
  tail,
};

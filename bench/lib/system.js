'use strict';
// What the machine offers: open-files limits, installed tools and their versions.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/** Soft and hard "Max open files" of this process (children inherit them). */
function nofileLimits() {
  const text = fs.readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const num = (v) => (v === 'unlimited' ? Infinity : Number(v));
  return m ? { soft: num(m[1]), hard: num(m[2]) } : { soft: 1024, hard: 1024 };
}

// Version strings go to stdout or stderr depending on the tool (nginx: stderr), and some
// exit non-zero (wrk -v), so read both and ignore the status.
function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  const line = firstLine(`${r.stdout || ''}\n${r.stderr || ''}`.trim());
  return line.replace(/\s+-\s+https?:\S+$/, '').replace(/\s+Copyright.*$/, '') || null;
}

function firstLine(text) {
  return (text || '').trim().split('\n')[0].trim();
}

// sbin dirs too: nginx and haproxy live in /usr/sbin, which is not on every user's PATH.
function which(cmd) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const file = `${dir}/${cmd}`;
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  return null;
}

function cpuModel() {
  const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? m[1] : os.cpus()[0]?.model || 'unknown';
}

/**
 * The Node binary that runs breakwater, the Node floor and the Node peers: `--node PATH`, or
 * the node running the bench. Throws with the reason when PATH is missing, not executable, or
 * does not answer `--version` with a Node version. Returns {bin, version, custom}.
 */
function nodeRuntime(requested) {
  if (!requested) return { bin: process.execPath, version: process.version, custom: false };
  const bin = requested.includes('/') ? path.resolve(requested) : which(requested);
  if (!bin) throw new Error(`--node ${requested}: not found on the PATH`);
  let st;
  try {
    st = fs.statSync(bin);
  } catch {
    throw new Error(`--node ${requested}: ${bin} does not exist`);
  }
  if (!st.isFile()) throw new Error(`--node ${requested}: ${bin} is not a file`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`--node ${requested}: ${bin} is not executable`);
  }
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10000 });
  const version = firstLine(r.stdout);
  if (r.status !== 0 || !/^v\d+\.\d+\.\d+/.test(version)) {
    const why = r.error ? r.error.message : `exit ${r.status}, output "${version || firstLine(r.stderr)}"`;
    throw new Error(`--node ${requested}: \`${bin} --version\` did not print a Node version (${why})`);
  }
  return { bin, version, custom: true };
}

function machine({ nginx, haproxy, wrk }) {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: os.release(),
    node: process.version,
    nginx: nginx ? versionOf(nginx, ['-v']) : 'not installed',
    haproxy: haproxy ? versionOf(haproxy, ['-v']) : 'not installed',
    wrk: wrk ? versionOf(wrk, ['-v']) : 'not installed (autocannon fallback)',
  };
}

module.exports = { nofileLimits, versionOf, which, machine, nodeRuntime };

'use strict';
// Reads CPU time and memory of a process tree from /proc. A proxy is often more than one
// process (nginx master + worker, node cluster primary + workers), so every figure is summed
// over the root pid and all its descendants.
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const CLK_TCK = clockTicks();

function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

function readFile(path) {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

// Children are listed per thread in /proc/PID/task/TID/children (needs CONFIG_PROC_CHILDREN,
// standard on Debian kernels); a fork from any thread shows up under that thread.
function childrenOf(pid) {
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = [];
  for (const tid of tids) {
    const text = readFile(`/proc/${pid}/task/${tid}/children`);
    if (text) kids.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return kids;
}

function tree(rootPid) {
  const seen = new Set();
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift();
    if (seen.has(pid) || !fs.existsSync(`/proc/${pid}`)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
  }
  return [...seen];
}

// utime + stime in clock ticks. The command name may contain spaces or ')', so parse after
// the last ')': the fields after it start at field 3 (state); utime/stime are fields 14/15.
function cpuTicks(pid) {
  const stat = readFile(`/proc/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Snapshot of CPU ticks per pid of the tree; diff two snapshots with cpuDeltaMicros(). */
function cpuSnapshot(rootPid) {
  const snap = new Map();
  for (const pid of tree(rootPid)) {
    const ticks = cpuTicks(pid);
    if (ticks !== null) snap.set(pid, ticks);
  }
  return snap;
}

// A pid that appeared during the window (a new worker) counts from zero. One that vanished
// is lost; that does not happen to the long-lived servers measured here.
function cpuDeltaMicros(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return (ticks * 1e6) / CLK_TCK;
}

function statusKb(pid, field) {
  const text = readFile(`/proc/${pid}/status`);
  const m = text && new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Current resident memory of the tree, in bytes. */
function rssBytes(rootPid) {
  return tree(rootPid).reduce((sum, pid) => sum + statusKb(pid, 'VmRSS') * 1024, 0);
}

/** Peak resident memory (VmHWM) of the tree since start or the last resetPeak(), in bytes. */
function peakRssBytes(rootPid) {
  return tree(rootPid).reduce((sum, pid) => sum + statusKb(pid, 'VmHWM') * 1024, 0);
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so each scenario
// reports its own peak rather than the process's lifetime peak. Needs the same uid or root.
function resetPeak(rootPid) {
  let ok = true;
  for (const pid of tree(rootPid)) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

module.exports = { tree, cpuSnapshot, cpuDeltaMicros, rssBytes, peakRssBytes, resetPeak, CLK_TCK };

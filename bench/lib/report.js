'use strict';
// Markdown and JSON output. Tables are plain GitHub markdown so the figures can be pasted into
// the README unchanged.
const fs = require('node:fs');
const path = require('node:path');
const targets = require('./targets');

const MB = 2 ** 20;

const num = (x, digits = 0) =>
  x == null || !Number.isFinite(x)
    ? '–'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes) => (bytes == null ? '–' : num(bytes / MB, 1));
const x2 = (r) => (r == null ? '–' : `${r.toFixed(2)}x`);

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function skippedRow(r, width) {
  return [r.label, `skipped: ${r.skipped}`, ...Array(width - 2).fill('')];
}

function loadTable(res) {
  const floor = Boolean(res.floorLabel);
  const header = [
    res.nodeVersion ? `variant (Node ${res.nodeVersion})` : 'variant',
    'req/s (median)',
    'min–max',
    res.ratioLabel,
    ...(floor ? [res.floorLabel] : []),
    'p50 ms',
    'p99 ms',
    'proxy CPU µs/req',
    'upstream CPU µs/req',
    'peak RSS MB',
    'non-2xx',
    'socket errors',
  ];
  const rows = res.rows.map((r) => {
    if (r.skipped) return skippedRow(r, header.length);
    const s = r.summary;
    const label = r.note ? `${r.label} (${r.note})` : r.label;
    return [
      label,
      num(s.rps),
      `${num(s.rpsMin)}–${num(s.rpsMax)}`,
      x2(r.vsBase),
      ...(floor ? [x2(r.vsFloor)] : []),
      num(s.p50Ms, 2),
      num(s.p99Ms, 2),
      num(s.cpuUsPerReq),
      num(s.upstreamUsPerReq),
      mb(s.peakRssBytes),
      num(s.non2xx),
      num(s.socketErrors),
    ];
  });
  return table(header, rows);
}

function uploadTable(res) {
  const header = ['variant', 'MB/s', 'seconds', 'RSS before MB', 'peak RSS MB', 'RSS growth MB', 'result'];
  const rows = res.rows.map((r) => {
    if (r.skipped) return skippedRow(r, header.length);
    const label = r.note ? `${r.label} (${r.note})` : r.label;
    return [
      label,
      num(r.mbPerSec),
      num(r.seconds, 1),
      mb(r.rssBeforeBytes),
      mb(r.peakRssBytes),
      mb(r.growthBytes),
      r.ok ? 'ok' : r.error,
    ];
  });
  return table(header, rows);
}

function idleTable(res) {
  const header = [
    'variant',
    'answered',
    'still open at sample',
    'RSS before MB',
    `RSS with ${res.n} idle MB`,
    'growth MB',
    'KB per connection',
  ];
  const rows = res.rows.map((r) => {
    if (r.skipped) return skippedRow(r, header.length);
    return [
      r.label,
      `${num(r.ok)}/${num(res.n)}`,
      num(r.stillOpen),
      mb(r.rssBeforeBytes),
      mb(r.rssBytes),
      mb(r.growthBytes),
      num(r.kbPerConn, 1),
    ];
  });
  return table(header, rows);
}

function probeText(p) {
  return p ? `${p.status}${p.code ? ` ${p.code}` : ''}` : '–';
}

function failFastTable(res) {
  const header = [
    'variant',
    'req/s (median)',
    'min–max',
    'vs plain',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'non-2xx',
    'probe before → after',
  ];
  const rows = res.rows.map((r) => {
    const s = r.summary || {};
    const probes = r.probeBefore ? `${probeText(r.probeBefore)} → ${probeText(r.probeAfter)}` : '';
    return [
      r.label,
      num(s.rps),
      `${num(s.rpsMin)}–${num(s.rpsMax)}`,
      x2(r.vsPlain),
      num(s.p50Ms, 2),
      num(s.p99Ms, 2),
      num(s.cpuUsPerReq),
      num(s.non2xx),
      probes,
    ];
  });
  return table(header, rows);
}

function rateLimitTable(res) {
  const header = [
    'variant',
    'req/s (median)',
    'min–max',
    'vs direct',
    'vs same proxy, proxied',
    'p50 ms',
    'p99 ms',
    'proxy CPU µs/req',
    'non-2xx',
    'probe before → after',
  ];
  const rows = res.rows.map((r) => {
    if (r.skipped) return skippedRow(r, header.length);
    const s = r.summary || {};
    const probes = r.probeBefore ? `${probeText(r.probeBefore)} → ${probeText(r.probeAfter)}` : '';
    return [
      r.label,
      num(s.rps),
      `${num(s.rpsMin)}–${num(s.rpsMax)}`,
      x2(r.vsDirect),
      x2(r.vsProxied),
      num(s.p50Ms, 2),
      num(s.p99Ms, 2),
      num(s.cpuUsPerReq),
      num(s.non2xx),
      probes,
    ];
  });
  return table(header, rows);
}

const signed = (x) => (x == null || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : '−'}${num(Math.abs(x))}`);

function policiesTable(res) {
  const withRedis = res.rows.some((r) => r.summary?.sideUsPerReq != null);
  const header = [
    'variant',
    'req/s (median)',
    'min–max',
    'baseline',
    'vs baseline',
    'proxy CPU µs/req',
    'Δ CPU µs/req',
    ...(withRedis ? ['Redis CPU µs/req'] : []),
    'p99 ms',
    'non-2xx',
    'check (after the rounds)',
  ];
  const rows = res.rows.map((r) => {
    if (r.skipped) return skippedRow(r, header.length);
    const s = r.summary || {};
    return [
      r.label,
      num(s.rps),
      `${num(s.rpsMin)}–${num(s.rpsMax)}`,
      r.baseline ?? '–',
      x2(r.vsBase),
      num(s.cpuUsPerReq),
      signed(r.cpuDelta),
      ...(withRedis ? [num(s.sideUsPerReq, 1)] : []),
      num(s.p99Ms, 2),
      num(s.non2xx),
      r.checked || '',
    ];
  });
  return table(header, rows);
}

const TABLES = {
  load: loadTable,
  upload: uploadTable,
  idle: idleTable,
  failfast: failFastTable,
  ratelimit: rateLimitTable,
  policies: policiesTable,
};

function section(sec) {
  const out = [`## ${sec.title}`, '', sec.what, ''];
  const res = sec.result;
  if (!res) out.push(`Not run (${sec.notRun || 'not selected'}).`);
  else if (res.error) out.push(`Failed: ${res.error}`);
  else if (res.skippedAll) out.push(`Skipped: ${res.skippedAll}`);
  else out.push(TABLES[res.kind](res));
  if (res?.note) out.push('', res.note);
  return out.join('\n');
}

function targetsTable(list) {
  return table(
    ['', 'target', 'measured'],
    list.map((t) => [targets.mark(t), t.name, t.missing ? `not measured: ${t.missing}` : t.value]),
  );
}

function nodeLine(n) {
  const where = n.fromOption ? `\`--node ${n.bin}\`` : `${n.bin}, the runner's own`;
  const runner =
    n.runner === n.version
      ? ''
      : `; the runner and its helpers (clients, a node:http origin) stay on Node ${n.runner}`;
  return `${n.version} (${where}) runs breakwater, the Node floor and the Node peers${runner}`;
}

function header(meta) {
  const m = meta.machine;
  return [
    `# breakwater benchmark · Node ${meta.node.version}`,
    '',
    `${meta.date} · \`${meta.command}\` · ${meta.elapsedSeconds} s`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, Linux ${m.kernel}`,
    `- Node ${nodeLine(meta.node)}`,
    `- ${m.nginx}; ${m.haproxy}; ${m.wrk}`,
    `- breakwater: ${meta.breakwater}`,
    `- Upstream: ${meta.upstream}`,
    `- Load: ${meta.load}`,
    ...meta.notes.map((n) => `- Note: ${n}`),
  ].join('\n');
}

function markdown(meta, sections, targetList) {
  return (
    [header(meta), '## Checked targets', targetsTable(targetList), ...sections.map(section)].join('\n\n') +
    '\n'
  );
}

function write(dir, md, json) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.md'), md);
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
}

module.exports = { markdown, write };

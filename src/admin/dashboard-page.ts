/**
 * @module admin/dashboard-page
 * `GET /` on the admin listener: one self-contained HTML page (inline CSS and JS, no CDN, works
 * offline) that polls `/admin/dashboard.json` every 2 s and shows what is broken first: open
 * breakers, down upstreams, failing targets and a refused reload in red at the top, then
 * upstreams with their targets, routes with their chains and live figures, and recent reloads.
 * With an admin token the page asks for it once (kept in sessionStorage, sent as a bearer
 * header). The page itself holds no data, so it is served without the token. Everything from
 * the gateway is inserted as text (textContent), never as HTML; the script and style are pinned
 * by hash in the Content-Security-Policy.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root{--bad:#b42318;--bad-bg:#fef3f2;--warn:#b54708;--warn-bg:#fffaeb;--ok:#067647;--ok-bg:#ecfdf3;
--mute:#667085;--line:#eaecf0;--info-bg:#eff8ff;--info:#175cd3}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#101828;background:#f9fafb}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:12px 20px;background:#101828;color:#fff}
header h1{font-size:18px;margin:0 8px 0 0}
header .meta{color:#d0d5dd;font-size:12px}
main{padding:16px 20px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:0 0 16px;padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--mute);font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;margin:1px 4px 1px 0;white-space:nowrap}
.ok{background:var(--ok-bg);color:var(--ok)}
.bad{background:var(--bad-bg);color:var(--bad)}
.warn{background:var(--warn-bg);color:var(--warn)}
.info{background:var(--info-bg);color:var(--info)}
tr.bad td{background:var(--bad-bg)}
tr.warn td{background:var(--warn-bg)}
#problems{border-color:var(--bad)}
#problems li{color:var(--bad);font-weight:600;margin:2px 0}
#problems li.warn{color:var(--warn);background:none}
#problems.clear{border-color:var(--ok)}
.mute{color:var(--mute)}
.chain{font-family:ui-monospace,Menlo,monospace;font-size:12px}
.tabs button{border:1px solid var(--line);background:#fff;padding:2px 10px;cursor:pointer}
.tabs button.on{background:#101828;color:#fff}
#login{max-width:420px}
#login input{width:100%;padding:6px;margin:6px 0;font:inherit}
#conn{margin-left:auto}
.issues{margin:4px 0 0;padding-left:18px;color:var(--bad);font-family:ui-monospace,Menlo,monospace;font-size:12px}
`;

const SCRIPT = `
(function () {
  'use strict';
  var KEY = 'breakwater.adminToken';
  var windowName = '1m';
  var timer = null;
  var last = null;

  function $(id) { return document.getElementById(id); }
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v; else el.setAttribute(k, String(v));
    }
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return el;
  }
  function pill(text, cls, attrs) {
    var a = attrs || {};
    a['class'] = 'pill ' + cls;
    return h('span', a, [text]);
  }
  function fill(id, nodes) {
    var el = $(id);
    el.replaceChildren.apply(el, nodes.filter(function (n) { return n !== null && n !== undefined; }));
  }
  function token() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function num(v, digits) { return v === null || v === undefined ? '–' : Number(v).toFixed(digits); }
  function pct(v) { return (v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1) + '%'; }
  function ago(iso) {
    if (!iso) return '–';
    var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago';
  }
  /** 0 = worst: down, then an open breaker or a target out, then degraded, then fine. */
  function badness(u) {
    var states = Object.keys(u.breakers).map(function (r) { return u.breakers[r]; });
    var out = u.targets.some(function (t) { return !t.healthy || t.ejected; });
    if (u.status === 'down') return 0;
    if (states.indexOf('open') >= 0 || out) return 1;
    if (u.status === 'degraded' || states.indexOf('half-open') >= 0) return 2;
    return 3;
  }
  var STATUS_CLASS = { ok: 'ok', degraded: 'warn', down: 'bad', open: 'bad', 'half-open': 'warn', closed: 'ok' };

  function load() {
    clearTimeout(timer);
    var headers = {};
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    fetch('/admin/dashboard.json', { headers: headers, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) { askToken(t ? 'That token was refused.' : ''); return null; }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (data) {
      if (!data) return;
      $('login').hidden = true;
      $('board').hidden = false;
      last = data;
      render(data);
      conn('live', 'ok');
      timer = setTimeout(load, 2000);
    }, function (err) {
      conn('gateway unreachable (' + err.message + ')', 'bad');
      timer = setTimeout(load, 2000);
    });
  }
  function conn(text, cls) { fill('conn', [pill(text, cls)]); }
  function askToken(message) {
    $('board').hidden = true;
    $('login').hidden = false;
    $('login-msg').textContent = message;
    $('token').focus();
  }

  function problems(d) {
    var list = [];
    var ups = d.health.upstreams;
    Object.keys(ups).forEach(function (name) {
      var u = ups[name];
      if (u.status === 'down') list.push(['bad', 'Upstream ' + name + ' is down: no target can take traffic']);
      Object.keys(u.breakers).forEach(function (route) {
        var s = u.breakers[route];
        var where = 'upstream ' + name + (route === '*' ? '' : ', route ' + route);
        if (s === 'open') list.push(['bad', 'Circuit breaker open: ' + where]);
        if (s === 'half-open') list.push(['warn', 'Circuit breaker half-open (trial): ' + where]);
      });
      u.targets.forEach(function (t) {
        if (!t.healthy) list.push(['bad', 'Target ' + t.url + ' (' + name + ') unhealthy: ' + (t.reason || '')]);
        else if (t.ejected) list.push(['bad', 'Target ' + t.url + ' (' + name + ') ejected: ' + (t.reason || '')]);
      });
    });
    if (d.health.redis.status === 'down') list.push(['bad', 'Redis is down: limits and cache are per replica']);
    var r = d.reloads[0];
    if (r && r.result === 'failure') list.push(['bad', 'Last reload refused (' + ago(r.at) + '); the previous config runs']);
    d.stats.routes.forEach(function (s) {
      var w = s.windows['1m'];
      if (w.requests > 0 && w.errorRate >= 0.05) list.push(['warn', 'Route ' + s.route + ': ' + pct(w.errorRate) + ' errors in the last minute']);
    });
    return list;
  }

  function render(d) {
    var hl = d.health;
    var list = problems(d);
    var bad = list.filter(function (p) { return p[0] === 'bad'; }).length;
    fill('status', [pill(hl.status, STATUS_CLASS[hl.status] || 'warn', { 'data-status': hl.status }),
      bad ? pill(bad + (bad === 1 ? ' problem' : ' problems'), 'bad') : null]);
    fill('meta', ['config ' + hl.version + ' loaded ' + ago(hl.loadedAt) + ' · up ' + hl.uptimeSeconds + 's · redis ' + hl.redis.status + (hl.draining ? ' · DRAINING' : '')]);
    $('problems').className = list.length ? '' : 'clear';
    fill('problem-list', list.length ? list.map(function (p) { return h('li', { 'class': p[0] }, [p[1]]); })
      : [h('li', { 'class': 'mute' }, ['Nothing is broken.'])]);
    renderUpstreams(hl.upstreams);
    renderRoutes(d);
    renderReloads(d.reloads);
  }

  function renderUpstreams(ups) {
    var names = Object.keys(ups).sort(function (a, b) { return badness(ups[a]) - badness(ups[b]) || a.localeCompare(b); });
    fill('upstreams', names.map(function (name) {
      var u = ups[name];
      var breakers = Object.keys(u.breakers).map(function (route) {
        var s = u.breakers[route];
        return pill((route === '*' ? 'all routes' : route) + ': ' + s, STATUS_CLASS[s], { 'data-breaker': name + '/' + route, 'data-state': s });
      });
      var targets = u.targets.map(function (t) {
        var cls = !t.healthy || t.ejected ? 'bad' : t.draining ? 'info' : 'ok';
        var label = !t.healthy ? 'unhealthy' : t.ejected ? 'ejected' : t.draining ? 'draining' : 'healthy';
        return h('div', {}, [pill(label, cls, { 'data-target': t.url }), t.url, t.reason ? h('span', { 'class': 'mute' }, [' – ' + t.reason]) : null]);
      });
      var level = badness(u);
      return h('tr', { 'class': level < 2 ? 'bad' : level === 2 ? 'warn' : null, 'data-upstream': name }, [
        h('td', {}, [h('strong', {}, [name])]),
        h('td', {}, [pill(u.status, STATUS_CLASS[u.status])]),
        h('td', { 'class': 'n' }, [u.inflight]),
        h('td', {}, breakers.length ? breakers : [h('span', { 'class': 'mute' }, ['none'])]),
        h('td', {}, targets)
      ]);
    }));
  }

  function renderRoutes(d) {
    var byName = {};
    d.routes.routes.forEach(function (r) { byName[r.name] = r; });
    fill('routes', d.stats.routes.filter(function (s) { return byName[s.route]; }).map(function (s) {
      var r = byName[s.route];
      var w = s.windows[windowName];
      var up = d.health.upstreams[r.upstream];
      var breaker = up ? up.breakers[r.name] || up.breakers['*'] : undefined;
      var bad = breaker === 'open' || (up && up.status === 'down') || (w.requests > 0 && w.errorRate >= 0.5);
      var cache = w.cache.hit + w.cache.stale + w.cache.miss + w.cache.bypass + w.cache.revalidated;
      return h('tr', { 'class': bad ? 'bad' : w.errorRate > 0 || breaker === 'half-open' ? 'warn' : null, 'data-route': r.name }, [
        h('td', {}, [h('strong', {}, [r.name]), h('div', { 'class': 'mute' }, [r.matchText])]),
        h('td', {}, [r.upstream, breaker ? h('div', {}, [pill('breaker ' + breaker, STATUS_CLASS[breaker])]) : null]),
        h('td', { 'class': 'chain' }, [r.chain.join(' → ')]),
        h('td', { 'class': 'n' }, [num(w.rate, 2)]),
        h('td', { 'class': 'n' }, [w.requests ? pct(w.errorRate) : '–']),
        h('td', { 'class': 'n' }, [num(w.p50Ms, 1)]),
        h('td', { 'class': 'n' }, [num(w.p95Ms, 1)]),
        h('td', { 'class': 'n' }, [num(w.p99Ms, 1)]),
        h('td', { 'class': 'n' }, [w.rateLimited]),
        h('td', { 'class': 'n' }, [cache ? w.cache.hit + ' / ' + w.cache.stale + ' / ' + w.cache.miss : '–'])
      ]);
    }));
  }

  function renderReloads(reloads) {
    fill('reloads', reloads.length ? reloads.map(function (r) {
      var issues = r.issues.length ? h('ul', { 'class': 'issues' }, r.issues.map(function (i) { return h('li', {}, [i]); })) : null;
      return h('tr', { 'class': r.result === 'failure' ? 'bad' : null }, [
        h('td', {}, [new Date(r.at).toLocaleTimeString(), h('div', { 'class': 'mute' }, [ago(r.at)])]),
        h('td', {}, [r.trigger]),
        h('td', {}, [pill(r.result === 'success' ? 'applied' : 'refused', r.result === 'success' ? 'ok' : 'bad'), issues]),
        h('td', {}, [r.version + (r.changed ? '' : ' (unchanged)')])
      ]);
    }) : [h('tr', {}, [h('td', { colspan: 4, 'class': 'mute' }, ['No reload since start.'])])]);
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    try { sessionStorage.setItem(KEY, $('token').value); } catch (err) { /* private mode: ask again */ }
    load();
  });
  Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (b) {
    b.addEventListener('click', function () {
      windowName = b.getAttribute('data-window');
      Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (o) { o.className = o === b ? 'on' : ''; });
      if (last) renderRoutes(last);
    });
  });
  load();
})();
`;

const BODY = `
<header><h1>breakwater</h1><span id="status"></span><span class="meta" id="meta"></span><span id="conn"></span></header>
<main>
<section id="login" hidden><h2>Admin token</h2><p>This gateway's admin API needs its bearer token.</p>
<form id="login-form"><input id="token" type="password" autocomplete="current-password" placeholder="server.admin.token">
<button type="submit">Show dashboard</button></form><p id="login-msg" class="bad"></p></section>
<div id="board">
<section id="problems"><h2>Problems</h2><ul id="problem-list"></ul></section>
<section><h2>Upstreams</h2><table><thead><tr><th>upstream</th><th>status</th><th>in flight</th><th>breakers</th><th>targets</th></tr></thead><tbody id="upstreams"></tbody></table></section>
<section><h2>Routes <span class="tabs"><button data-window="1m" class="on">1 min</button><button data-window="5m">5 min</button><button data-window="15m">15 min</button></span></h2>
<table><thead><tr><th>route</th><th>upstream</th><th>chain</th><th>req/s</th><th>5xx</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>rate-limited</th><th>cache hit / stale / miss</th></tr></thead><tbody id="routes"></tbody></table></section>
<section><h2>Recent reloads</h2><table><thead><tr><th>when</th><th>trigger</th><th>result</th><th>version</th></tr></thead><tbody id="reloads"></tbody></table></section>
</div>
</main>`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** The page's Content-Security-Policy: only its own inline script and style, data from itself. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>breakwater</title><style>${STYLE}</style></head>
<body>${BODY}
<script>${SCRIPT}</script>
</body></html>
`;

'use strict';
// HAProxy as a peer: one thread, keep-alive on both sides, idle server connections shared
// between client connections (http-reuse always), no logging (no `log` line).
const fs = require('node:fs');
const path = require('node:path');
const { which } = require('./system');

const HAPROXY = which('haproxy') || '/usr/sbin/haproxy';

function available() {
  return fs.existsSync(HAPROXY);
}

// rateLimit: the rate-limit scenario's /limited. One stick-table entry under a constant key
// (like breakwater's `key: route`) counts the requests to /limited; from the second one on,
// HAProxy answers 429 itself (`http-request deny`).
const LIMITED = `
  stick-table type integer size 16 expire 1h store http_req_cnt
  acl limited path_beg /limited
  http-request track-sc0 int(1) if limited
  http-request deny deny_status 429 if limited { sc_http_req_cnt(0) gt 1 }`;

// maxconn must cover the idle-connections scenario. HAProxy wants two fds per connection
// (client + server side) and by default refuses to start when the hard limit is lower
// (strict-limits); idle client connections hold one fd each, so relax it to a warning.
function conf({ port, upstreamPort, maxconn, rateLimit = false }) {
  return `
global
  nbthread 1
  maxconn ${maxconn}
  no strict-limits

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 75s
  timeout server 75s
  timeout http-keep-alive 75s
  timeout http-request 75s

frontend fe
  bind 127.0.0.1:${port}
  maxconn ${maxconn}${rateLimit ? LIMITED : ''}
  default_backend origin

backend origin
  server o1 127.0.0.1:${upstreamPort}
`;
}

function prepare(dir, text) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, text);
  // -db: stay in the foreground, no daemon, so the spawned pid is the proxy.
  return { cmd: HAPROXY, args: ['-db', '-f', file] };
}

module.exports = { HAPROXY, available, conf, prepare };

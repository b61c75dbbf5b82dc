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

// maxconn must cover the idle-connections scenario. HAProxy wants two fds per connection
// (client + server side) and by default refuses to start when the hard limit is lower
// (strict-limits); idle client connections hold one fd each, so relax it to a warning.
function conf({ port, upstreamPort, maxconn }) {
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
  maxconn ${maxconn}
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

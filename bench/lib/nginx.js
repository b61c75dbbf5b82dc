'use strict';
// nginx configs: the origin ("upstream") and nginx as a peer reverse proxy. Both run one
// worker in the foreground (daemon off) so the spawned pid is the master and the worker is its
// child; every path nginx writes to lives in the run's temp dir, never in /var.
const fs = require('node:fs');
const path = require('node:path');
const { which } = require('./system');
const { Buffer } = require('node:buffer');

const NGINX = which('nginx') || '/usr/sbin/nginx';

function available() {
  return fs.existsSync(NGINX);
}

// Open-files headroom for the idle-connections scenario (10k client sockets on one worker).
function mainBlock(dir, nofile) {
  return `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile ${nofile};
events { worker_connections ${nofile - 500}; }
`;
}

function httpCommon(dir) {
  return `
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_max_body_size 0;
`;
}

// The upload location streams to the node sink (proxy_request_buffering off) so a 1 GB body is
// never spooled to disk and the sink's answer comes after the last byte was read. /nostore is
// the tiny body marked `Cache-Control: no-store`: a cached route pays its lookup and still goes
// upstream on every request (the full chain, the policies scenario). Anything else (/, /limited)
// is the tiny body without Cache-Control, which a cached route may keep for its `ttl`.
function originConf({ dir, port, sinkPort, nofile }) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, '64k'), Buffer.alloc(64 * 1024, 'x'));
  return `${mainBlock(dir, nofile)}
http {${httpCommon(dir)}
  upstream sink { server 127.0.0.1:${sinkPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location = /64k { root ${dir}; default_type text/plain; }
    location = /nostore {
      default_type text/plain;
      add_header Cache-Control no-store;
      return 200 "Hello, World!";
    }
    location /upload {
      proxy_pass http://sink;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
    location / { default_type text/plain; return 200 "Hello, World!"; }
  }
}
`;
}

const PROXY_LOCATION = `
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffer_size 16k;
      proxy_buffers 16 16k;`;

// The rate-limit scenario's /limited: one constant key ("all", like breakwater's
// `key: route`), 1 request per minute (limit_req's lowest rate), no burst, so once spent every
// request is a 429 made by nginx. Refusals are logged at `info`, below error_log's `warn`:
// nginx would otherwise write an error.log line per refused request.
const LIMIT_ZONE = `
  limit_req_zone "all" zone=limited:1m rate=1r/m;`;
const LIMITED_LOCATION = `
    location /limited {
      limit_req zone=limited;
      limit_req_status 429;
      limit_req_log_level info;${PROXY_LOCATION}
    }`;

// Peer proxy: upstream keepalive pool, streaming request bodies, and response buffers large
// enough (256 KB) that a 64 KB response never goes through a temp file. rateLimit: add the
// rate-limit scenario's /limited location.
function proxyConf({ dir, port, upstreamPort, nofile, rateLimit = false }) {
  return `${mainBlock(dir, nofile)}
http {${httpCommon(dir)}${rateLimit ? LIMIT_ZONE : ''}
  upstream origin { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};${rateLimit ? LIMITED_LOCATION : ''}
    location / {${PROXY_LOCATION}
    }
  }
}
`;
}

/** Writes conf into its own dir and returns the argv to start nginx with it. */
function prepare(dir, conf) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { cmd: NGINX, args: ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file] };
}

module.exports = { NGINX, available, originConf, proxyConf, prepare };

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
// never spooled to disk and the sink's answer comes after the last byte was read.
function originConf({ dir, port, sinkPort, nofile }) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, '64k'), Buffer.alloc(64 * 1024, 'x'));
  return `${mainBlock(dir, nofile)}
http {${httpCommon(dir)}
  upstream sink { server 127.0.0.1:${sinkPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location = /64k { root ${dir}; default_type text/plain; }
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

// Peer proxy: upstream keepalive pool, streaming request bodies, and response buffers large
// enough (256 KB) that a 64 KB response never goes through a temp file.
function proxyConf({ dir, port, upstreamPort, nofile }) {
  return `${mainBlock(dir, nofile)}
http {${httpCommon(dir)}
  upstream origin { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffer_size 16k;
      proxy_buffers 16 16k;
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

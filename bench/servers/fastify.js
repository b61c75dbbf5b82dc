'use strict';
// @fastify/http-proxy (reply-from over an undici pool, 128 connections by default).
// usage: node fastify.js PORT TARGET_URL
const Fastify = require('fastify');
const proxy = require('@fastify/http-proxy');

const [port, upstream] = process.argv.slice(2);
// keepAliveTimeout: fastify's default is 72 s already; set it so all node peers match.
const app = Fastify({ logger: false, keepAliveTimeout: 75000 });
app.register(proxy, { upstream });
app.listen({ port: Number(port), host: '127.0.0.1' }).catch((err) => {
  console.error(err);
  process.exit(1);
});

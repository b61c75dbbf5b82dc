'use strict';
// fast-gateway 3.4 (restana + fast-proxy-lite over a keep-alive http.Agent).
// usage: node fast-gateway.js PORT TARGET_URL
const gateway = require('fast-gateway');

const [port, target] = process.argv.slice(2);
// prefix '' + the default pathRegex '/*' routes every path; the prefix rewrite is a no-op.
const server = gateway({ routes: [{ prefix: '', target }] });
server.getServer().keepAliveTimeout = 75000;
server.getServer().headersTimeout = 80000;
server.start(Number(port), '127.0.0.1').catch((err) => {
  console.error(err);
  process.exit(1);
});

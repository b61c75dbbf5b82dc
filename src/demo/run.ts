/**
 * @module demo/run
 * `npm run demo`: the two demo backends plus the gateway from ./gateway.yaml in front of
 * them, in one process, and curl lines to try. Ctrl-C drains and stops everything.
 */
import type { Server } from 'node:http';
import { ConfigError } from '../errors';
import { loadConfig } from '../config/load';
import { Gateway } from '../gateway';
import { startCatalog, startFlaky } from './backends';

const CATALOG_PORT = Number(process.env.DEMO_CATALOG_PORT ?? 3001);
const FLAKY_PORT = Number(process.env.DEMO_FLAKY_PORT ?? 3002);

async function main(): Promise<void> {
  const file = process.argv[2] ?? 'gateway.yaml';
  const env = {
    ...process.env,
    CATALOG_URL: `http://127.0.0.1:${CATALOG_PORT}`,
    FLAKY_URL: `http://127.0.0.1:${FLAKY_PORT}`,
  };
  const backends: Server[] = [await startCatalog(CATALOG_PORT), await startFlaky(FLAKY_PORT)];
  const config = loadConfig(file, env);
  const gateway = await Gateway.start(config);
  const proxy = `http://127.0.0.1:${gateway.proxyAddress.port}`;
  const admin = `http://127.0.0.1:${gateway.adminAddress!.port}`;
  process.stderr.write(`
breakwater demo: gateway ${proxy} (admin ${admin}) in front of
  catalog  http://127.0.0.1:${CATALOG_PORT}  always fast
  flaky    http://127.0.0.1:${FLAKY_PORT}  every 4th request 503, every 5th slow, down 5 s of every 30 s

Try:
  curl -i ${proxy}/catalog/items
  for i in $(seq 30); do curl -s -o /dev/null -w '%{http_code} ' ${proxy}/catalog/items; done; echo   # 25 × 200, then 429
  curl -si ${proxy}/catalog/items | grep -i -e ^ratelimit -e ^retry-after
  curl -i ${proxy}/flaky/orders            # run it a few times
  for i in $(seq 40); do curl -s -o /dev/null -D - ${proxy}/flaky/orders | grep -i cache-status; sleep 0.5; done   # hit, miss, and fwd=stale when flaky fails
  curl -i ${proxy}/nothing-here            # 404 NO_ROUTE
  curl -s ${admin}/health | head -c 600; echo
  curl -s ${admin}/metrics | grep breakwater_requests_total
  node dist/cli.js routes ${file}

Access lines go to stdout as JSON. Ctrl-C to stop.

`);
  const stop = () => {
    void gateway.drain().then(() => {
      for (const server of backends) server.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * The admin API with `server.workers: 2` (a real `breakwater` process; `npm run build` first):
 * every action reaches every worker (each request below opens its own connection, so the
 * primary's round-robin spreads them over both workers), every read answers for the whole
 * gateway (stats and cache purge counts summed), reloads reach every worker, and a worker that
 * replaces a dead one keeps the operator's drain.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCli, type RunningGateway } from '../helpers/cli';
import { get } from '../helpers/http';
import { adminClient, enc, listeners, type AdminClient } from '../helpers/admin';
import { startUpstream, type Behaviour, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const TOKEN = 'cluster-token';

function named(name: string): Behaviour {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ name });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}

/** `count` requests, each on a new connection; the statuses in order. */
async function statuses(base: string, path: string, count = 20): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await request(`${base}${path}`, { reset: true });
    await res.body.dump();
    out.push(res.statusCode);
  }
  return out;
}

describe('admin API with two workers', () => {
  let a: TestUpstream, b: TestUpstream;
  let gw: RunningGateway;
  let file: string;
  let base: string;
  let admin: AdminClient;

  const config = (extraRoute = '') => `${listeners(TOKEN, '  workers: 2\n')}
upstreams:
  api:
    targets: ["${a.url}", "${b.url}"]
    circuitBreaker: { volumeThreshold: 100 }
routes:
  - { name: users, match: { pathPrefix: /users }, upstream: api }
  - { name: cached, match: { pathPrefix: /cached }, upstream: api, cache: { ttl: 30s } }
${extraRoute}`;

  beforeAll(async () => {
    [a, b] = await Promise.all([startUpstream(named('a')), startUpstream(named('b'))]);
    file = join(mkdtempSync(join(tmpdir(), 'bw-cluster-admin-')), 'gateway.yaml');
    writeFileSync(file, config());
    gw = await startCli(file);
    base = `http://127.0.0.1:${gw.proxyPort}`;
    admin = adminClient(`http://127.0.0.1:${gw.adminPort}`, TOKEN);
  });
  afterAll(async () => {
    gw.child.kill('SIGTERM');
    const code = await gw.exited;
    if (code !== 0) console.log(gw.lines.filter((l) => l.level !== 'info'));
    expect(code).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('needs the token for /admin/*, and keeps /metrics and /health open', async () => {
    const res = await get(`http://127.0.0.1:${gw.adminPort}/admin/stats`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${gw.adminPort}/health`)).status).toBe(200);
  });

  it('forces the breakers open in every worker, and resets them in every worker', async () => {
    expect((await admin.post('/admin/breakers/api/open?route=users')).json()).toMatchObject({
      breakers: ['users'],
      state: 'open',
    });
    expect(new Set(await statuses(base, '/users/x'))).toEqual(new Set([503]));
    const health = (await admin.get('/admin/dashboard.json')).json<{
      health: { upstreams: { api: { breakers: Record<string, string> } } };
    }>();
    expect(health.health.upstreams.api.breakers.users).toBe('open');
    await admin.post('/admin/breakers/api/reset?route=users');
    expect(new Set(await statuses(base, '/users/x'))).toEqual(new Set([200]));
    expect((await admin.post('/admin/breakers/nope/reset')).status).toBe(404);
  });

  it('drains a target in every worker, and undrains it', async () => {
    await admin.post(`/admin/upstreams/api/targets/${enc(a.url)}/drain`);
    const before = a.hits;
    expect(new Set(await statuses(base, '/users/d'))).toEqual(new Set([200]));
    expect(a.hits).toBe(before);
    const health = (await get(`http://127.0.0.1:${gw.adminPort}/health`)).json<{
      upstreams: { api: { targets: Array<{ url: string; draining: boolean }> } };
    }>();
    expect(health.upstreams.api.targets.find((t) => t.url === a.url)!.draining).toBe(true);
    await admin.post(`/admin/upstreams/api/targets/${enc(a.url)}/undrain`);
    await statuses(base, '/users/u');
    expect(a.hits).toBeGreaterThan(before);
  });

  it('purges the cache of every worker', async () => {
    const hits = () => a.hits + b.hits;
    const start = hits();
    await statuses(base, '/cached/p');
    const stored = hits() - start; // one miss per worker
    expect(stored).toBe(2);
    expect((await admin.post('/admin/cache/purge?route=cached')).json()).toEqual({
      route: 'cached',
      purged: 2,
    });
    await statuses(base, '/cached/p');
    expect(hits() - start).toBe(4);
  });

  it('answers stats for the whole gateway', async () => {
    const before = (await admin.get('/admin/stats')).json<{
      routes: Array<{ route: string; windows: { '15m': { requests: number } } }>;
    }>();
    const count = (report: typeof before) =>
      report.routes.find((r) => r.route === 'users')!.windows['15m'].requests;
    await statuses(base, '/users/s', 30);
    const after = (await admin.get('/admin/stats')).json<typeof before>();
    expect(count(after) - count(before)).toBe(30);
  });

  it('shows the running config redacted and the route table', async () => {
    const config = (await admin.get('/admin/config')).json<{
      server: { admin: { token: string }; workers: number };
    }>();
    expect(config.server.admin.token).toBe('[redacted]');
    expect(config.server.workers).toBe(2);
    const routes = (await admin.get('/admin/routes')).json<{ routes: Array<{ name: string }> }>();
    expect(routes.routes.map((r) => r.name)).toEqual(['users', 'cached']);
  });

  it('reloads every worker on POST /admin/reload and on a file change; refuses a broken file', async () => {
    writeFileSync(file, config('  - { name: posted, match: { pathPrefix: /posted }, upstream: api }\n'));
    expect((await admin.post('/admin/reload')).json()).toMatchObject({ result: 'success', changed: true });
    expect(new Set(await statuses(base, '/posted/x'))).toEqual(new Set([200]));

    writeFileSync(file, config('  - { name: watched, match: { pathPrefix: /watched }, upstream: api }\n'));
    await waitFor(async () => (await get(`${base}/watched/x`)).status === 200, 'the file change', 6000);
    expect(new Set(await statuses(base, '/watched/x'))).toEqual(new Set([200]));

    writeFileSync(file, config('  - { name: broken, upstream: nowhere }\n'));
    const refused = await admin.post('/admin/reload');
    expect(refused.status).toBe(422);
    expect(refused.json<{ issues: string[] }>().issues[0]).toMatch(
      new RegExp(`^${file}:\\d+:\\d+: routes\\[2\\]`),
    );
    expect(new Set(await statuses(base, '/watched/x'))).toEqual(new Set([200]));
    // Counted once for the gateway, not once per worker.
    await waitFor(
      () => gw.lines.filter((l) => l.msg === 'config refused; keeping the running config').length >= 1,
      'the refusal line',
    );
    const metrics = (await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
    expect(metrics).toMatch(/breakwater_config_reloads_total\{result="success"\} 2/);
    expect(metrics).toMatch(/breakwater_config_reloads_total\{result="failure"\} 1\b/);
  });

  it('replays a drain to a worker that replaces a dead one (which starts from the last good config)', async () => {
    await admin.post(`/admin/upstreams/api/targets/${enc(b.url)}/drain`);
    const workers = execFileSync('pgrep', ['-P', String(gw.child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(workers).toHaveLength(2);
    // The file on disk is still broken: the new worker must not read it.
    process.kill(Number(workers[0]), 'SIGKILL');
    await waitFor(
      () => gw.lines.filter((l) => l.msg === 'worker started').length === 3,
      'a replacement worker',
    );
    const before = b.hits;
    expect(new Set(await statuses(base, '/watched/r'))).toEqual(new Set([200]));
    expect(b.hits).toBe(before);
    await admin.post(`/admin/upstreams/api/targets/${enc(b.url)}/undrain`);
    writeFileSync(file, config('  - { name: watched, match: { pathPrefix: /watched }, upstream: api }\n'));
  });
});

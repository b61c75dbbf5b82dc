/**
 * The breakwater command as operators run it: validate, routes, exit codes, start-up with a
 * bad file, and the SIGTERM drain and SIGHUP reload of a real process.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'undici';
import { runCli, startCli, writeTemp } from '../helpers/cli';
import { startUpstream, delay, echo, type TestUpstream } from '../helpers/upstream';
import { get, sleep } from '../helpers/http';

const GOOD = (url: string, extra = '') => `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  shutdownTimeout: 3s
${extra}
upstreams:
  api: { targets: ["${url}"] }
routes:
  - name: api
    match: { pathPrefix: /api }
    upstream: api
    rewrite: { stripPrefix: /api }
    timeout: 10s
`;

describe('breakwater CLI', () => {
  let slow: TestUpstream;

  beforeAll(async () => {
    slow = await startUpstream(delay(800, echo()));
  });
  afterAll(() => slow.close());

  it('prints its version and help', () => {
    expect(runCli(['--version'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^breakwater \d+\.\d+\.\d+/),
    });
    expect(runCli(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('breakwater validate'),
    });
  });

  it('exits 2 on a usage error', () => {
    const result = runCli(['--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown argument "--bogus"');
  });

  it('validate: exit 0 for a good file, 1 with every error positioned for a bad one', () => {
    expect(runCli(['validate', writeTemp('good.yaml', GOOD(slow.url))]).code).toBe(0);
    const bad = writeTemp(
      'bad.yaml',
      GOOD(slow.url).replace('timeout: 10s', 'timout: 10s').replace('upstream: api', 'upstream: apx'),
    );
    const result = runCli(['validate', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /bad\.yaml:\d+:\d+: routes\[0\]\.timout: unknown key "timout" \(did you mean "timeout"\?\)/,
    );
    expect(result.stderr).toMatch(/bad\.yaml:\d+:\d+: routes\[0\]\.upstream: .*"apx"/);
  });

  it('routes: prints the compiled table with each policy chain', () => {
    const result = runCli(['routes', writeTemp('good.yaml', GOOD(slow.url))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1. api');
    expect(result.stdout).toContain('prefix=/api');
    expect(result.stdout).toContain(`api → ${slow.url}`);
    expect(result.stdout).toContain('strip /api');
    expect(result.stdout).toContain('forward (timeout 10000ms)');
    // A route with no policies is a plain proxy: event-loop shedding is the handler's, not a stage.
    expect(result.stdout).toMatch(/chain\s+forward \(timeout 10000ms\)/);
  });

  it('refuses to start with a bad file, at once, with the same messages', () => {
    const started = Date.now();
    const result = runCli(['--config', writeTemp('bad.yaml', 'version: 2\nroutes: []\n')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.yaml:1:10: version: /);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('drains on SIGTERM: readiness 503 at once, new connections refused, the in-flight request finishes, exit 0', async () => {
    const gw = await startCli(writeTemp('gw.yaml', GOOD(slow.url)));
    const hitsBefore = slow.hits;
    const inFlight = request(`http://127.0.0.1:${gw.proxyPort}/api/slow`);
    await waitFor(() => slow.hits > hitsBefore);
    gw.child.kill('SIGTERM');
    await sleep(100);
    expect((await get(`http://127.0.0.1:${gw.adminPort}/health/ready`)).status).toBe(503);
    await expect(get(`http://127.0.0.1:${gw.proxyPort}/api/new`)).rejects.toThrow();
    const res = await inFlight.catch((err: Error) => {
      throw new Error(`${err.message}; gateway log: ${JSON.stringify(gw.lines)}`);
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(((await res.body.json()) as { url: string }).url).toBe('/slow');
    expect(await gw.exited).toBe(0);
  });

  it('exits 1 when shutdownTimeout cuts requests off', async () => {
    const gw = await startCli(
      writeTemp('gw.yaml', GOOD(slow.url).replace('shutdownTimeout: 3s', 'shutdownTimeout: 200ms')),
    );
    const hitsBefore = slow.hits;
    const inFlight = request(`http://127.0.0.1:${gw.proxyPort}/api/slow`).catch((err: Error) => err);
    await waitFor(() => slow.hits > hitsBefore);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(1);
    expect(await inFlight).toBeInstanceOf(Error);
    // Logged as the gateway's own decision, not as a client that left or an upstream reset.
    const cutLine = () => gw.lines.find((l) => l.path === '/api/slow' && typeof l.status === 'number');
    // stdout may still be delivering the last lines when the exit is seen.
    await waitFor(() => cutLine() !== undefined).catch(() => {
      throw new Error(`no access line for the cut-off request: ${JSON.stringify(gw.lines)}`);
    });
    expect(cutLine()).toMatchObject({ status: 503, reason: 'shutdown_timeout' });
  });

  it('drainDelay: readiness 503 at once, new connections still served for the delay, then refused', async () => {
    const gw = await startCli(
      writeTemp(
        'gw.yaml',
        GOOD(slow.url).replace('shutdownTimeout: 3s', 'shutdownTimeout: 3s\n  drainDelay: 1500ms'),
      ),
    );
    const base = `http://127.0.0.1:${gw.proxyPort}`;
    gw.child.kill('SIGTERM');
    await waitFor(async () => (await get(`http://127.0.0.1:${gw.adminPort}/health/ready`)).status === 503);
    // A load balancer that has not caught up yet still gets answers on new connections.
    const during = await request(`${base}/api/during`, { reset: true });
    expect(during.statusCode).toBe(200);
    await during.body.dump();
    expect(await gw.exited).toBe(0);
    await expect(get(`${base}/api/after`)).rejects.toThrow();
  });

  it('reloads on SIGHUP, and keeps serving the old config when the new file is bad', async () => {
    const up = await startUpstream(echo());
    const file = writeTemp('gw.yaml', GOOD(up.url));
    const gw = await startCli(file);
    const base = `http://127.0.0.1:${gw.proxyPort}`;
    try {
      expect((await get(`${base}/v2/x`)).status).toBe(404);
      writeFileSync(file, GOOD(up.url).replace('pathPrefix: /api', 'pathPrefix: /v2'));
      gw.child.kill('SIGHUP');
      await waitFor(async () => (await get(`${base}/v2/x`)).status === 200);
      writeFileSync(file, 'version: 1\nroutes: [oops\n');
      gw.child.kill('SIGHUP');
      await sleep(300);
      expect((await get(`${base}/v2/x`)).status).toBe(200);
      const metrics = (await get(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
      expect(metrics).toMatch(/breakwater_config_reloads_total\{result="success"\} 1/);
      expect(metrics).toMatch(/breakwater_config_reloads_total\{result="failure"\} 1/);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await up.close();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/**
 * Reload through the control seam in one process: POST /admin/reload applies a changed file and
 * refuses a broken one (old config keeps serving, file:line:col in the answer and the log,
 * counted); state carries over for unchanged settings (an open breaker stays open, a drained
 * target stays drained); series of removed routes and upstreams leave /metrics; /health shows
 * the running version and when it was loaded.
 */
import { respond, startUpstream, type TestUpstream } from '../helpers/upstream';
import { get } from '../helpers/http';
import { adminClient, enc, listeners, startFileGateway, type FileGateway } from '../helpers/admin';
import { waitFor } from '../helpers/wait';

interface Health {
  version: string;
  loadedAt: string;
  upstreams: Record<
    string,
    { breakers: Record<string, string>; targets: Array<{ url: string; draining: boolean }> }
  >;
}

describe('reload through the control seam', () => {
  let ok: TestUpstream, failing: TestUpstream, legacy: TestUpstream;
  let gw: FileGateway;

  const config = (extraRoutes = '', connectTimeout = '1s', legacyUpstream = true) => `${listeners()}
upstreams:
  api: { targets: ["${ok.url}"], connect: { timeout: ${connectTimeout} } }
  broken:
    targets: ["${failing.url}"]
    circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeout: 30s }
${legacyUpstream ? `  legacy: { targets: ["${legacy.url}"] }` : ''}
routes:
  - { name: api, match: { pathPrefix: /api }, upstream: api }
  - { name: broken, match: { pathPrefix: /broken }, upstream: broken }
${extraRoutes}`;

  beforeAll(async () => {
    [ok, failing, legacy] = await Promise.all([
      startUpstream(respond(200, 'ok')),
      startUpstream(respond(500, 'down')),
      startUpstream(respond(200, 'legacy')),
    ]);
  });
  beforeEach(async () => {
    gw = await startFileGateway(config('  - { name: old, match: { pathPrefix: /old }, upstream: legacy }\n'));
  });
  afterEach(() => gw.close());
  afterAll(() => Promise.all([ok, failing, legacy].map((u) => u.close())));

  const health = async () => (await get(`${gw.adminUrl}/health`)).json<Health>();

  it('applies a changed file on POST /admin/reload and refuses a broken one', async () => {
    const admin = adminClient(gw.adminUrl);
    const before = await health();
    expect((await get(`${gw.url}/new/x`)).status).toBe(404);
    gw.write(config('  - { name: new, match: { pathPrefix: /new }, upstream: api }\n'));
    const applied = await admin.post('/admin/reload');
    expect(applied.status).toBe(200);
    expect(applied.json()).toMatchObject({ result: 'success', trigger: 'admin', changed: true, issues: [] });
    expect((await get(`${gw.url}/new/x`)).status).toBe(200);
    const after = await health();
    expect(after.version).not.toBe(before.version);
    expect(Date.parse(after.loadedAt)).toBeGreaterThanOrEqual(Date.parse(before.loadedAt));

    gw.write(config('  - { name: bad, match: { pathPrefix: /bad }, upstream: nowhere }\n'));
    const refused = await admin.post('/admin/reload');
    expect(refused.status).toBe(422);
    const record = refused.json<{ result: string; issues: string[] }>();
    expect(record.result).toBe('failure');
    expect(record.issues[0]).toMatch(new RegExp(`^${gw.file}:16:\\d+: routes\\[2\\]\\.upstream: `));
    expect((await get(`${gw.url}/new/x`)).status).toBe(200);
    expect((await health()).version).toBe(after.version);
    const line = gw.linesWith('config refused; keeping the running config')[0]!;
    expect(line).toMatchObject({ level: 'error', trigger: 'admin', issues: record.issues });

    // An unchanged file is a successful reload too.
    gw.write(config('  - { name: new, match: { pathPrefix: /new }, upstream: api }\n'));
    expect((await admin.post('/admin/reload')).json()).toMatchObject({ result: 'success' });
    const metrics = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(metrics).toMatch(/breakwater_config_reloads_total\{result="success"\} 2/);
    expect(metrics).toMatch(/breakwater_config_reloads_total\{result="failure"\} 1/);
    const reloads = (await admin.get('/admin/reloads')).json<{ reloads: Array<{ result: string }> }>();
    expect(reloads.reloads.map((r) => r.result)).toEqual(['success', 'failure', 'success']);
  });

  it('keeps an open breaker open across an unrelated reload', async () => {
    for (let i = 0; i < 3; i++) expect((await get(`${gw.url}/broken/${i}`)).status).toBe(500);
    expect((await get(`${gw.url}/broken/x`)).status).toBe(503);
    expect((await health()).upstreams.broken!.breakers.broken).toBe('open');
    const hits = failing.hits;
    gw.write(config('  - { name: unrelated, match: { pathPrefix: /unrelated }, upstream: api }\n'));
    expect((await adminClient(gw.adminUrl).post('/admin/reload')).status).toBe(200);
    const res = await get(`${gw.url}/broken/y`);
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'CIRCUIT_OPEN' } });
    expect(failing.hits).toBe(hits);
    expect((await health()).upstreams.broken!.breakers.broken).toBe('open');
  });

  it('keeps a forced-open breaker and a drained target across a reload that rebuilds the upstream', async () => {
    const admin = adminClient(gw.adminUrl);
    await admin.post('/admin/breakers/broken/open');
    await admin.post(`/admin/upstreams/api/targets/${enc(ok.url)}/drain`);
    gw.write(config('', '2s')); // api's settings change: its Upstream object is rebuilt
    expect((await admin.post('/admin/reload')).status).toBe(200);
    const after = await health();
    expect(after.upstreams.broken!.breakers.broken).toBe('open');
    expect(after.upstreams.api!.targets[0]!.draining).toBe(true);
    expect((await get(`${gw.url}/api/x`)).json()).toMatchObject({ error: { code: 'NO_HEALTHY_UPSTREAM' } });
  });

  it('removes the series of removed routes and upstreams from /metrics', async () => {
    expect((await get(`${gw.url}/old/x`)).status).toBe(200);
    expect((await get(`${gw.url}/api/x`)).status).toBe(200);
    const before = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(before).toContain('route="old"');
    expect(before).toContain('upstream="legacy"');
    gw.write(config('', '1s', false));
    expect((await adminClient(gw.adminUrl).post('/admin/reload')).status).toBe(200);
    await waitFor(async () => {
      const text = (await get(`${gw.adminUrl}/metrics`)).text;
      return !text.includes('route="old"') && !text.includes('upstream="legacy"');
    }, 'the removed series to go');
    const after = (await get(`${gw.adminUrl}/metrics`)).text;
    expect(after).toMatch(/breakwater_requests_total\{route="api",method="GET",code="200"\} 1/);
    // A route that comes back counts from zero.
    gw.write(config('  - { name: old, match: { pathPrefix: /old }, upstream: legacy }\n'));
    await adminClient(gw.adminUrl).post('/admin/reload');
    await get(`${gw.url}/old/y`);
    expect((await get(`${gw.adminUrl}/metrics`)).text).toMatch(
      /breakwater_requests_total\{route="old",method="GET",code="200"\} 1/,
    );
  });
});

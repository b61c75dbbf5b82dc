/**
 * `breakwater validate` as a mistake finder: warnings printed after errors with exit 0,
 * `--strict` failing on them, listeners that cannot both open, a start on a port in use that
 * ends in one clean line, `${VAR}` inside flow mappings, and warnings logged at start and reload.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { runCli, startCli, writeTemp } from '../helpers/cli';
import { waitFor } from '../helpers/wait';

const config = (
  route = '',
  server = '  listen: 127.0.0.1:0\n  admin: { listen: 127.0.0.1:0 }\n',
) => `version: 1
server:
${server}upstreams:
  api: { targets: ["http://127.0.0.1:9"] }
routes:
  - name: api
    upstream: api
    match: { pathPrefix: /api }
${route}`;

const WITH_WARNINGS = config(`    timeout: 2s
    retry: { perTryTimeout: 5s, methods: [GET, GTE] }
`);

describe('breakwater validate: warnings and --strict', () => {
  it('prints warnings after the ok line and exits 0', () => {
    const file = writeTemp('warn.yaml', WITH_WARNINGS);
    const result = runCli(['validate', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${file}: ok (1 routes, 1 upstreams, 2 warnings)\n`);
    expect(result.stderr).toBe(
      `${file}:12:29: routes[0].retry.perTryTimeout: warning: perTryTimeout (5s) is longer than the route timeout (2s), so it can never fire; make it shorter than the timeout, or raise the timeout\n` +
        `${file}:12:48: routes[0].retry.methods[1]: warning: "GTE" is not a standard HTTP method (did you mean "GET"?)\n`,
    );
  });

  it('--strict fails on warnings, before or after the file name', () => {
    const file = writeTemp('warn.yaml', WITH_WARNINGS);
    for (const args of [
      ['validate', '--strict', file],
      ['validate', file, '--strict'],
    ]) {
      const result = runCli(args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`${file}:12:48: routes[0].retry.methods[1]: warning: "GTE"`);
      expect(result.stderr).toMatch(/2 warnings in .*warn\.yaml; --strict fails on warnings\n$/);
    }
    expect(runCli(['validate', '--strict', writeTemp('clean.yaml', config())]).code).toBe(0);
  });

  it('prints errors first, then warnings', () => {
    const file = writeTemp('both.yaml', WITH_WARNINGS.replace('timeout: 2s', 'timeout: 2s\n    timout: 1s'));
    const result = runCli(['validate', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/:12:5: routes\[0\]\.timout: unknown key "timout"/);
    expect(lines.slice(1, 3).every((line) => line.includes(': warning: '))).toBe(true);
    expect(lines[3]).toBe(`1 problem and 2 warnings in ${file}`);
  });

  it('--strict fails on a shared limit no route names', () => {
    const text = `${config('    rateLimit: { shared: global }\n')}sharedLimits:
  global: { key: ip, limit: 100, window: 1m }
  writes: { key: ip, limit: 10, window: 1m }
`;
    const file = writeTemp('unused.yaml', text);
    expect(runCli(['validate', file]).code).toBe(0);
    const result = runCli(['validate', '--strict', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}:14:3: sharedLimits.writes: warning: shared limit "writes" is not used: no route names it`,
    );
    const used = writeTemp(
      'used.yaml',
      text.replace('{ shared: global }', '[{ shared: global }, { shared: writes }]'),
    );
    expect(runCli(['validate', '--strict', used]).code).toBe(0);
  });

  it('refuses proxy and admin listeners on one host:port', () => {
    const file = writeTemp(
      'ports.yaml',
      config('', '  listen: 127.0.0.1:8080\n  admin: { listen: 127.0.0.1:8080 }\n'),
    );
    const result = runCli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}:4:20: server.admin.listen: the proxy listener (server.listen, line 3) already uses 127.0.0.1:8080; the admin listener needs another port`,
    );
  });

  it('reads ${VAR} inside flow mappings', () => {
    const file = writeTemp(
      'flow.yaml',
      config('    retry: { attempts: ${ATTEMPTS:-2}, perTryTimeout: ${PER_TRY:-1s} }\n').replace(
        'admin: { listen: 127.0.0.1:0 }',
        'admin: { listen: ${ADMIN:-127.0.0.1:0}, token: ${BW_TEST_TOKEN} }',
      ),
    );
    expect(runCli(['validate', file], { BW_TEST_TOKEN: 'secret' })).toMatchObject({ code: 0, stderr: '' });
    // Empty counts as unset for an optional key.
    expect(runCli(['validate', file], { BW_TEST_TOKEN: '' })).toMatchObject({ code: 0, stderr: '' });
    const missing = runCli(['validate', file], { BW_TEST_TOKEN: undefined });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `${file}:4:50: server.admin.token: environment variable BW_TEST_TOKEN is not set`,
    );
  });
});

describe('breakwater start: listeners and warnings', () => {
  let occupied: Server;
  let port: number;

  beforeAll(async () => {
    occupied = createServer().listen(0, '127.0.0.1');
    await once(occupied, 'listening');
    port = (occupied.address() as AddressInfo).port;
  });
  afterAll(() => occupied.close());

  it('a port in use is one clean line on stderr and exit 1', () => {
    const file = writeTemp(
      'busy.yaml',
      config('', `  listen: 127.0.0.1:${port}\n  admin: { listen: 127.0.0.1:0 }\n`),
    );
    const result = runCli(['--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `breakwater: cannot listen on 127.0.0.1:${port} (proxy): address already in use\n`,
    );
  });

  it('the admin port in use names the admin listener', () => {
    const file = writeTemp(
      'busy.yaml',
      config('', `  listen: 127.0.0.1:0\n  admin: { listen: 127.0.0.1:${port} }\n`),
    );
    const result = runCli(['--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `breakwater: cannot listen on 127.0.0.1:${port} (admin): address already in use\n`,
    );
  });

  it('logs each warning once at start and again on reload, and keeps serving', async () => {
    const file = writeTemp('warn.yaml', WITH_WARNINGS);
    const gw = await startCli(file);
    try {
      const warnings = () =>
        gw.lines.filter((l) => l.level === 'warn' && String(l.msg).includes(': warning: '));
      expect(warnings().map((l) => l.msg)).toEqual([
        expect.stringMatching(/:12:29: routes\[0\]\.retry\.perTryTimeout: warning: /),
        expect.stringMatching(/:12:48: routes\[0\]\.retry\.methods\[1\]: warning: "GTE"/),
      ]);
      writeFileSync(file, WITH_WARNINGS.replace('GTE', 'PSOT'));
      gw.child.kill('SIGHUP');
      await waitFor(() => warnings().some((l) => String(l.msg).includes('"PSOT"')), 'the reload warning');
      expect(gw.lines.some((l) => l.msg === 'config reloaded')).toBe(true);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });
});

/**
 * The watched config file is deleted under a running gateway (a CLI process): it keeps serving
 * the config it has, logs the refusal, picks the file up again when it returns, never exits,
 * and its descriptor count comes back to where it was.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'undici';
import { startCli, writeTemp, type RunningGateway } from '../helpers/cli';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { fdCount, fdsBackTo } from './helpers';

describe('faults: config file deleted while watched', () => {
  let up: TestUpstream;
  let gw: RunningGateway | undefined;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
    await up.close();
  });

  const yaml = (extraRoute = '') => `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  overload: { maxEventLoopDelay: 0 }
  shutdownTimeout: 2s
upstreams:
  up: { targets: ["${up.url}"] }
routes:
${extraRoute}  - { name: all, match: { pathPrefix: /a }, upstream: up }
`;

  it('keeps serving, logs, and reloads when the file comes back', async () => {
    const file = writeTemp('gateway.yaml', yaml());
    gw = await startCli(file);
    const { proxyPort, adminPort, child, lines } = gw;
    const status = async (path: string) => {
      const res = await request(`http://127.0.0.1:${proxyPort}${path}`);
      await res.body.dump();
      return res.statusCode;
    };
    expect(await status('/a')).toBe(200);
    expect(await status('/b')).toBe(404);
    const baseline = fdCount(child.pid!);

    unlinkSync(file);
    await waitFor(
      () => lines.some((l) => l.msg === 'config refused; keeping the running config'),
      'the refusal to be logged',
      10_000,
    );
    for (let i = 0; i < 20; i++) expect(await status('/a')).toBe(200);
    const live = await request(`http://127.0.0.1:${adminPort}/health/live`);
    await live.body.dump();
    expect(live.statusCode).toBe(200);

    // The file returns (written aside and renamed in, as editors and ConfigMaps do), with a new route.
    writeFileSync(`${file}.tmp`, yaml('  - { name: b, match: { pathPrefix: /b }, upstream: up }\n'));
    renameSync(`${file}.tmp`, file);
    await waitFor(async () => (await status('/b')) === 200, 'the returned file to be loaded', 10_000, 100);
    // The log line travels through the stdout pipe: it may land just after the swap.
    await waitFor(() => lines.some((l) => l.msg === 'config reloaded'), 'the reload to be logged');
    expect(await status('/a')).toBe(200);
    expect(child.exitCode).toBeNull();
    await fdsBackTo(baseline, child.pid!);

    child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});

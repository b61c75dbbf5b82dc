/**
 * `server.memoryWarning` on the real gateway: the process's own memory use, sampled every
 * `memoryCheckInterval`, is published as `breakwater_memory_usage_ratio`; a threshold below the
 * current use writes one "memory usage high" warn line (not one per sample), a threshold of 1
 * none, and raising the threshold by a reload brings the info "back to normal" line. Bad values
 * are refused with their position.
 */
import { ConfigError } from '../../src/errors';
import { parseConfig } from '../../src/config/load';
import { listeners, startFileGateway, adminClient } from '../helpers/admin';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { get, sleep } from '../helpers/http';
import { startUpstream, type TestUpstream } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const config = (
  upstream: string,
  memory: string,
) => `${listeners('memtoken', `${memory}  overload: { maxEventLoopDelay: 0 }\n`)}
upstreams:
  app: { targets: ["${upstream}"] }
routes:
  - { name: all, upstream: app }
`;

const gaugeOf = async (adminUrl: string): Promise<number | undefined> => {
  const match = /^breakwater_memory_usage_ratio (\S+)$/m.exec((await get(`${adminUrl}/metrics`)).text);
  return match ? Number(match[1]) : undefined;
};
const HIGH = 'memory usage high';
const NORMAL = 'memory usage back to normal';
const linesWith = (gw: TestGateway, msg: string) => gw.logs.filter((l) => l.msg === msg);

describe('memory warnings', () => {
  let up: TestUpstream;
  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(async () => {
    await up.close();
  });

  it('publishes the ratio and warns once while use stays above a low threshold', async () => {
    const gw = await startGateway(config(up.url, '  memoryWarning: 0.0001\n  memoryCheckInterval: 50ms\n'));
    try {
      const ratio = await gaugeOf(gw.adminUrl);
      expect(ratio).toBeGreaterThan(0);
      expect(ratio).toBeLessThan(1);
      await waitFor(() => linesWith(gw, HIGH).length > 0, 'the warn line');
      const line = linesWith(gw, HIGH)[0]!;
      expect(line).toMatchObject({ level: 'warn', event: 'memory', threshold: 0.0001 });
      for (const field of ['heapUsed', 'heapLimit', 'rss', 'ratio'])
        expect(typeof line[field]).toBe('number');
      expect(line.heapUsed as number).toBeLessThan(line.heapLimit as number);
      expect('limit' in line).toBe(true);
      // Many samples later (50 ms apart), still the one line: a state change, not a stream.
      await sleep(600);
      expect(linesWith(gw, HIGH)).toHaveLength(1);
      expect(linesWith(gw, NORMAL)).toHaveLength(0);
    } finally {
      await gw.close();
    }
  });

  it('writes nothing under the threshold (1) or with memoryWarning: false, and keeps the gauge', async () => {
    for (const setting of ['  memoryWarning: 1\n', '  memoryWarning: false\n']) {
      const gw = await startGateway(config(up.url, `${setting}  memoryCheckInterval: 50ms\n`));
      try {
        await sleep(300);
        expect(linesWith(gw, HIGH)).toHaveLength(0);
        expect(await gaugeOf(gw.adminUrl)).toBeGreaterThan(0);
      } finally {
        await gw.close();
      }
    }
  });

  it('follows a reload: a lower threshold warns, a higher one brings the all-clear', async () => {
    const gw = await startFileGateway(config(up.url, '  memoryWarning: 1\n  memoryCheckInterval: 1h\n'));
    const admin = adminClient(gw.adminUrl, 'memtoken');
    try {
      expect(gw.linesWith(HIGH)).toHaveLength(0);
      gw.write(config(up.url, '  memoryWarning: 0.0001\n  memoryCheckInterval: 1h\n'));
      expect((await admin.post('/admin/reload')).status).toBe(200);
      // A reload samples at once: no need to wait an hour.
      await waitFor(() => gw.linesWith(HIGH).length === 1, 'the warn line');
      gw.write(config(up.url, '  memoryWarning: 0.99\n  memoryCheckInterval: 1h\n'));
      expect((await admin.post('/admin/reload')).status).toBe(200);
      await waitFor(() => gw.linesWith(NORMAL).length === 1, 'the all-clear line');
      expect(gw.linesWith(NORMAL)[0]).toMatchObject({ level: 'info', event: 'memory', threshold: 0.99 });
      expect(gw.linesWith(HIGH)).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it.each([
    ['0', 'expected a number > 0 and <= 1, got 0'],
    ['1.5', 'expected a number > 0 and <= 1, got 1.5'],
    ['"high"', 'expected a number > 0 and <= 1 or false, got "high"'],
  ])('refuses memoryWarning: %s with its position', (value, message) => {
    const text = `version: 1\nserver:\n  memoryWarning: ${value}\nupstreams:\n  u: { targets: [http://127.0.0.1:1] }\nroutes:\n  - { name: a, upstream: u }\n`;
    expect(() => parseConfig(text, 'gateway.yaml', {})).toThrow(ConfigError);
    expect(() => parseConfig(text, 'gateway.yaml', {})).toThrow(
      `gateway.yaml:3:18: server.memoryWarning: ${message}`,
    );
  });
});

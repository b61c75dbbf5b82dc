/**
 * A log sink that goes away costs log lines, never traffic: with the reader of its stdout pipe
 * gone, the gateway keeps answering, its health stays live, the lost lines are counted and
 * SIGTERM still stops it (sonic-boom's flushSync used to retry EPIPE forever and wedge it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';
import { CLI, writeTemp } from '../helpers/cli';
import { startUpstream, type TestUpstream } from '../helpers/upstream';

describe('dead log sink', () => {
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
  });
  afterAll(() => up.close());

  it('keeps serving with stdout closed, counts the dropped lines, and exits on SIGTERM', async () => {
    const file = writeTemp(
      'gw.yaml',
      `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  shutdownTimeout: 2s
upstreams:
  up: { targets: ["${up.url}"] }
routes:
  - { name: all, upstream: up }
`,
    );
    const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    const started = await new Promise<{ proxy: number; admin: number }>((resolve) => {
      let buffer = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const line = buffer.split('\n').find((l) => l.includes('breakwater started'));
        if (line) {
          const parsed = JSON.parse(line) as { proxy: { port: number }; admin: { port: number } };
          resolve({ proxy: parsed.proxy.port, admin: parsed.admin.port });
        }
      });
    });
    // The reader goes away, as a crashed log shipper would.
    child.stdout!.destroy();
    for (let i = 0; i < 30; i++) {
      const res = await request(`http://127.0.0.1:${started.proxy}/x${i}`);
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    }
    const live = await request(`http://127.0.0.1:${started.admin}/health/live`, { headersTimeout: 5000 });
    expect(live.statusCode).toBe(200);
    await live.body.dump();
    let dropped = 0;
    for (let tries = 0; tries < 50 && dropped === 0; tries++) {
      const metrics = await (await request(`http://127.0.0.1:${started.admin}/metrics`)).body.text();
      dropped = Number(/breakwater_log_lines_dropped_total (\d+)/.exec(metrics)?.[1] ?? 0);
      if (dropped === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dropped).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const [code] = (await Promise.race([
      exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no exit after SIGTERM')), 10_000)),
    ])) as [number | null];
    expect(code).toBe(0);
  });
});

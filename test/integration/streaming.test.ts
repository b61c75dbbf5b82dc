/**
 * 50 MB each way through the gateway, streamed: memory must not grow with the body size.
 * The gateway runs as its own process (the built CLI) so its RSS is measured alone, from
 * /proc, without the client's and upstream's garbage in the same heap.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { Readable } from 'node:stream';
import { startCli, writeTemp, type RunningGateway } from '../helpers/cli';
import { startUpstream, download, type TestUpstream } from '../helpers/upstream';

const SIZE = 50 * 1024 * 1024;
const MAX_RSS_GROWTH = 60 * 1024 * 1024;

/** Resident set size of a process, in bytes, from /proc/PID/status. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

/** Samples the gateway's RSS every 20 ms while `work` runs; returns the peak growth over the start. */
async function peakRssGrowth(pid: number, work: () => Promise<void>): Promise<number> {
  const start = rssOf(pid);
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssOf(pid)) - start;
}

function generated(bytes: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const size = Math.min(chunk.length, left);
      left -= size;
      this.push(size === chunk.length ? chunk : chunk.subarray(0, size));
    },
  });
}

describe('streaming', () => {
  let sink: TestUpstream;
  let source: TestUpstream;
  let gw: RunningGateway;
  let url: string;

  beforeAll(async () => {
    [sink, source] = await Promise.all([startUpstream(), startUpstream(download(SIZE))]);
    gw = await startCli(
      writeTemp(
        'stream.yaml',
        `version: 1
server:
  listen: 127.0.0.1:0
  admin: { listen: 127.0.0.1:0 }
  limits: { maxBodySize: 100mb }
upstreams:
  sink: { targets: ["${sink.url}"] }
  source: { targets: ["${source.url}"] }
routes:
  - { name: upload, match: { pathPrefix: /up }, upstream: sink }
  - { name: download, match: { pathPrefix: /down }, upstream: source }
`,
      ),
    );
    url = `http://127.0.0.1:${gw.proxyPort}`;
    // Warm up with one full-size transfer each way: V8 lets up to ~64 MB of garbage socket
    // buffers pile up before its first full GC, and a fresh heap grows to its working size.
    // After that, a streaming gateway stays flat, while a buffering one grows by the body
    // size on every request, which is what the assertions tell apart.
    const warm = await request(`${url}/up`, {
      method: 'POST',
      body: generated(SIZE),
      headers: { 'content-length': String(SIZE) },
    });
    await warm.body.dump();
    await (await request(`${url}/down`)).body.dump();
  });
  afterAll(async () => {
    gw.child.kill('SIGTERM');
    await gw.exited;
    await Promise.all([sink.close(), source.close()]);
  });

  it('streams a 50 MB upload with RSS growth under 60 MB', async () => {
    let received = 0;
    const growth = await peakRssGrowth(gw.child.pid!, async () => {
      const res = await request(`${url}/up`, {
        method: 'POST',
        body: generated(SIZE),
        headers: { 'content-length': String(SIZE) },
      });
      received = ((await res.body.json()) as { bodyBytes: number }).bodyBytes;
    });
    expect(received).toBe(SIZE);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('streams a chunked 50 MB upload too', async () => {
    let received = 0;
    const growth = await peakRssGrowth(gw.child.pid!, async () => {
      const res = await request(`${url}/up`, { method: 'POST', body: generated(SIZE) });
      received = ((await res.body.json()) as { bodyBytes: number }).bodyBytes;
    });
    expect(received).toBe(SIZE);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('streams a 50 MB download with RSS growth under 60 MB', async () => {
    let received = 0;
    const growth = await peakRssGrowth(gw.child.pid!, async () => {
      const res = await request(`${url}/down`);
      for await (const chunk of res.body) received += (chunk as Buffer).length;
    });
    expect(received).toBe(SIZE);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('lets a slow reader hold back the upstream instead of buffering (backpressure)', async () => {
    const res = await request(`${url}/down`);
    let received = 0;
    const growth = await peakRssGrowth(gw.child.pid!, async () => {
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        if (received < 5 * 1024 * 1024) await new Promise((r) => setImmediate(r));
      }
    });
    expect(received).toBe(SIZE);
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);
  });
});

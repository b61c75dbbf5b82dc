/**
 * The config watcher on a real file system: in-place writes, an editor's write-and-rename, and a
 * Kubernetes ConfigMap `..data` symlink swap are all seen; events are debounced.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { waitFor } from '../../test/helpers/wait';
import { watchConfigFile, type ConfigWatcher } from './watch';

const log = pino({ level: 'silent' });

describe('watchConfigFile', () => {
  let watcher: ConfigWatcher | undefined;
  afterEach(() => watcher?.close());

  function watchCounting(file: string) {
    const seen = { count: 0 };
    watcher = watchConfigFile(file, () => seen.count++, log, { debounceMs: 50, pollMs: 0 });
    return seen;
  }

  it('sees writes in place and debounces a burst into one call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-watch-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, 'a');
    const seen = watchCounting(file);
    for (let i = 0; i < 5; i++) writeFileSync(file, `b${i}`);
    await waitFor(() => seen.count === 1, 'one debounced change');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen.count).toBe(1);
  });

  it('is not held back by a busy neighbour file in the same directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-watch-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, 'a');
    const seen = watchCounting(file);
    // A log written every 20 ms beside the config: its events are ignored, and even a stream of
    // relevant events cannot postpone the reload past the maximum wait.
    const noise = setInterval(() => writeFileSync(join(dir, 'gateway.log'), String(Date.now())), 20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.count).toBe(0);
      writeFileSync(file, 'b');
      await waitFor(() => seen.count === 1, 'the change despite the noise');
    } finally {
      clearInterval(noise);
    }
  });

  it("sees an editor's write-to-temp-and-rename, more than once", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-watch-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, 'a');
    const seen = watchCounting(file);
    for (let round = 1; round <= 2; round++) {
      writeFileSync(`${file}.swp`, `v${round}`);
      renameSync(`${file}.swp`, file);
      await waitFor(() => seen.count >= round, `rename ${round}`);
    }
  });

  it('sees a ConfigMap-style ..data symlink swap, more than once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-watch-'));
    const version = (name: string, text: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'gateway.yaml'), text);
    };
    version('..2024_01', 'one');
    symlinkSync('..2024_01', join(dir, '..data'));
    symlinkSync(join('..data', 'gateway.yaml'), join(dir, 'gateway.yaml'));
    const seen = watchCounting(join(dir, 'gateway.yaml'));
    let previous = '..2024_01';
    for (const [round, next] of [
      [1, '..2024_02'],
      [2, '..2024_03'],
    ] as const) {
      version(next, `v${round}`);
      symlinkSync(next, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, previous), { recursive: true });
      previous = next;
      await waitFor(() => seen.count >= round, `swap ${round}`);
    }
  });
});

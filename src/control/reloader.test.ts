/**
 * ConfigReloader on real files: success, refusal with file:line:col, unchanged files for the
 * watcher, one reload at a time, and settings that need a restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { GatewayConfig } from '../config/types';
import { ConfigReloader, readConfigFile, type LoadedConfig } from './reloader';

const yaml = (prefix: string, port = 8080) => `version: 1
server:
  listen: 127.0.0.1:${port}
upstreams:
  api: { targets: ["http://127.0.0.1:3000"] }
routes:
  - { name: api, match: { pathPrefix: ${prefix} }, upstream: api }
`;

function setup(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'bw-reloader-')), 'gateway.yaml');
  writeFileSync(file, text);
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { base: undefined },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  const first = readConfigFile(file, {});
  let running: GatewayConfig = first.config;
  const applied: LoadedConfig[] = [];
  const counts = { success: 0, failure: 0 };
  const reloader = new ConfigReloader({
    file,
    env: {},
    log,
    initialHash: first.hash,
    current: () => ({ config: running, version: running.routes[0]!.match.pathPrefix ?? '' }),
    apply: async (loaded) => {
      applied.push(loaded);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running = loaded.config;
      return running.routes[0]!.match.pathPrefix ?? '';
    },
    count: (result) => counts[result]++,
  });
  return { file, lines, reloader, applied, counts };
}

describe('ConfigReloader', () => {
  it('applies a valid file and records it', async () => {
    const t = setup(yaml('/a'));
    writeFileSync(t.file, yaml('/b'));
    const record = await t.reloader.reload('admin');
    expect(record).toMatchObject({
      result: 'success',
      version: '/b',
      changed: true,
      trigger: 'admin',
      issues: [],
    });
    expect(t.counts).toEqual({ success: 1, failure: 0 });
    expect(t.lines.find((l) => l.msg === 'config reloaded')).toMatchObject({ level: 30, version: '/b' });
    expect(t.reloader.history.list()[0]).toBe(record);
  });

  it('refuses an invalid file with every problem as file:line:col, at error level', async () => {
    const t = setup(yaml('/a'));
    writeFileSync(t.file, yaml('/a').replace('pathPrefix: /a', 'pathPrefix: /a, retries: 3'));
    const record = await t.reloader.reload('signal');
    expect(record.result).toBe('failure');
    expect(record.changed).toBe(false);
    expect(record.issues[0]).toMatch(new RegExp(`^${t.file}:7:\\d+: routes\\[0\\]`));
    expect(t.applied).toHaveLength(0);
    expect(t.counts.failure).toBe(1);
    const line = t.lines.find((l) => l.msg === 'config refused; keeping the running config')!;
    expect(line.level).toBe(50);
    expect(line.issues).toEqual(record.issues);
  });

  it('reloads from the watcher only when the content changed', async () => {
    const t = setup(yaml('/a'));
    expect(await t.reloader.reloadIfChanged()).toBeUndefined();
    writeFileSync(t.file, yaml('/c'));
    expect(await t.reloader.reloadIfChanged()).toMatchObject({ result: 'success', trigger: 'file' });
    expect(await t.reloader.reloadIfChanged()).toBeUndefined();
    // A broken file is reported once, not on every event.
    writeFileSync(t.file, 'version: [');
    expect(await t.reloader.reloadIfChanged()).toMatchObject({ result: 'failure' });
    expect(await t.reloader.reloadIfChanged()).toBeUndefined();
    // An explicit reload of an unchanged file is a success too.
    writeFileSync(t.file, yaml('/c'));
    await t.reloader.reloadIfChanged();
    expect(await t.reloader.reload('signal')).toMatchObject({ result: 'success', changed: false });
  });

  it('runs reloads one at a time, in order', async () => {
    const t = setup(yaml('/a'));
    writeFileSync(t.file, yaml('/d'));
    const records = await Promise.all([t.reloader.reload('admin'), t.reloader.reload('signal')]);
    expect(records.map((r) => r.trigger)).toEqual(['admin', 'signal']);
    expect(t.applied).toHaveLength(2);
  });

  it('says which changed settings need a restart', async () => {
    const t = setup(yaml('/a'));
    writeFileSync(t.file, yaml('/a', 8081));
    const record = await t.reloader.reload('admin');
    expect(record.restartNeeded).toEqual(['server.listen']);
    expect(t.lines.some((l) => l.msg === 'config reloaded; some changes need a restart')).toBe(true);
  });
});

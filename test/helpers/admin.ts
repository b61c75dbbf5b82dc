/**
 * A real gateway started from a config FILE (so that reloads read it), with its log lines
 * collected, and a small client for the admin API (bearer token optional).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readConfigFile } from '../../src/control/reloader';
import { Gateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { get, type SimpleResponse } from './http';

export interface FileGateway {
  readonly gateway: Gateway;
  readonly file: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly logs: Record<string, unknown>[];
  /** Log lines with this message. */
  linesWith(msg: string): Record<string, unknown>[];
  write(text: string): void;
  close(): Promise<void>;
}

/** `yaml` must listen on 127.0.0.1:0 for both listeners (see `listeners()`). */
export async function startFileGateway(
  yaml: string,
  options: { watch?: boolean } = {},
): Promise<FileGateway> {
  const file = join(mkdtempSync(join(tmpdir(), 'bw-admin-')), 'gateway.yaml');
  writeFileSync(file, yaml);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const loaded = readConfigFile(file, process.env);
  const gateway = await Gateway.start(loaded.config, {
    logger: createLogger({ stream, level: 'debug' }),
    reload: { file, env: process.env, hash: loaded.hash, watch: options.watch ?? false },
  });
  return {
    gateway,
    file,
    url: `http://127.0.0.1:${gateway.proxyAddress.port}`,
    adminUrl: `http://127.0.0.1:${gateway.adminAddress!.port}`,
    logs,
    linesWith: (msg) => logs.filter((l) => l.msg === msg),
    write: (text) => writeFileSync(file, text),
    close: async () => {
      await gateway.drain();
    },
  };
}

/** The server block for tests: both listeners on free loopback ports, optional admin token. */
export function listeners(token?: string, extra = ''): string {
  return `version: 1
server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0${token ? `\n    token: ${token}` : ''}
${extra}`;
}

export interface AdminClient {
  get(path: string): Promise<SimpleResponse>;
  post(path: string): Promise<SimpleResponse>;
}

export function adminClient(base: string, token?: string): AdminClient {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    get: (path) => get(`${base}${path}`, headers),
    post: (path) => get(`${base}${path}`, headers, 'POST'),
  };
}

/** The percent-encoded form a target URL takes in an admin path. */
export const enc = encodeURIComponent;

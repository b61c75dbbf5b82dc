/**
 * Helpers of the recipe tests (payments, airline booking): start the real gateway from a
 * shipped example file, send traffic from chosen loopback addresses (127.0.0.2, 127.0.0.3, …:
 * Linux routes all of 127/8 to lo, so per-IP limits see distinct real clients without any
 * X-Forwarded-For), and read /metrics.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { readConfigFile } from '../../src/control/reloader';
import { Gateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';

export const EXAMPLES = join(__dirname, '..', '..', 'config', 'examples');
export const ADMIN_TOKEN = 'recipe-admin-token';

export interface ExampleGateway {
  readonly gateway: Gateway;
  /** The temp copy the gateway runs from and watches (edit it with `edit`). */
  readonly file: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly logs: Record<string, unknown>[];
  /** Access lines only (those with a reqId and a status). */
  accessLines(): Record<string, unknown>[];
  linesWith(msg: string): Record<string, unknown>[];
  /** Rewrites the running config file; the watcher hot-reloads it. */
  edit(change: (text: string) => string): void;
  /** GET (or POST) on the admin listener with the bearer token. */
  admin(path: string, method?: 'GET' | 'POST'): Promise<Answer>;
  /** The value of one series of /metrics (0 when absent). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the gateway from config/examples/<name>.yaml exactly as shipped, with `env` for its
 * `${VAR}`s (listeners default to 127.0.0.1:0 and the admin token to ADMIN_TOKEN). The one
 * change: event-loop shedding off, as in test/helpers/gateway.ts (a GC pause on a loaded 2-core
 * machine must not turn a request into a 503 OVERLOADED).
 */
export async function startExample(name: string, env: NodeJS.ProcessEnv): Promise<ExampleGateway> {
  const shipped = readFileSync(join(EXAMPLES, `${name}.yaml`), 'utf8');
  if (!/^server:\n/m.test(shipped)) throw new Error(`${name}.yaml has no block-style server:`);
  const text = shipped.replace(/^server:\n/m, 'server:\n  overload: { maxEventLoopDelay: 0 }\n');
  const file = join(mkdtempSync(join(tmpdir(), `bw-recipe-${name}-`)), 'gateway.yaml');
  writeFileSync(file, text);
  const fullEnv: NodeJS.ProcessEnv = {
    BREAKWATER_LISTEN: '127.0.0.1:0',
    BREAKWATER_ADMIN_LISTEN: '127.0.0.1:0',
    BREAKWATER_ADMIN_TOKEN: ADMIN_TOKEN,
    ...env,
  };
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const loaded = readConfigFile(file, fullEnv);
  const gateway = await Gateway.start(loaded.config, {
    logger: createLogger({ stream, level: 'info' }),
    reload: { file, env: fullEnv, hash: loaded.hash, watch: true },
  });
  const adminUrl = `http://127.0.0.1:${gateway.adminAddress!.port}`;
  const admin = (path: string, method: 'GET' | 'POST' = 'GET') =>
    send(`${adminUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return {
    gateway,
    file,
    url: `http://127.0.0.1:${gateway.proxyAddress.port}`,
    adminUrl,
    logs,
    accessLines: () => logs.filter((l) => typeof l.reqId === 'string' && typeof l.status === 'number'),
    linesWith: (msg) => logs.filter((l) => l.msg === msg),
    edit: (change) => writeFileSync(file, change(readFileSync(file, 'utf8'))),
    admin,
    metric: async (metricName, labels) => metricValue((await admin('/metrics')).text, metricName, labels),
    close: async () => {
      await gateway.drain();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Wall time from sending to the end of the body. */
  readonly ms: number;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** A client from `clientAt`, to send from another loopback address. */
  readonly via?: Dispatcher;
}

export async function send(url: string, options: SendOptions = {}): Promise<Answer> {
  const started = performance.now();
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers:
      options.body === undefined
        ? options.headers
        : { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    dispatcher: options.via,
  });
  const text = await res.body.text();
  const ms = performance.now() - started;
  return { status: res.statusCode, headers: res.headers, text, ms, json: <T>() => JSON.parse(text) as T };
}

/** A request sent as given: no header added (for tests that control every header or send bytes). */
export async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
  });
  const text = await res.body.text();
  const ms = performance.now() - started;
  return { status: res.statusCode, headers: res.headers, text, ms, json: <T>() => JSON.parse(text) as T };
}

/** A client whose connections come from `address` (any 127.x.y.z); close it after the test. */
export function clientAt(address: string, connections = 64): Agent {
  return new Agent({ localAddress: address, connections, keepAliveTimeout: 10_000 });
}

/** Runs `count` calls of `task(i)` with at most `concurrency` in flight; answers in call order. */
export async function inParallel<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** One series of a Prometheus text exposition whose labels include `labels` (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const braces = /\{(.*)\}/.exec(line)?.[1] ?? '';
    const have = braces.split(/,(?=[a-zA-Z_]+=")/);
    if (wanted.every((pair) => have.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The value of the series `name{labels}` exactly as written (labels in exposition order), undefined when absent. */
export function seriesValue(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The header as one string (undici gives arrays for repeated fields). */
export function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

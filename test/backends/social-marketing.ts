/**
 * Stand-in for the social marketing platform of recipe 5 (docs/recipes/social-marketing.md): an
 * Express + Prisma + Redis API that also calls the X API and an LLM API, reduced to its routes
 * and failure modes on node:http. Everything it used to do to harden itself (a circuit breaker
 * per dependency, per-operation timeouts and retries, the fall back to cached data, its error
 * classes, the latency tracker and its alert thresholds, the admin reset endpoints) is deleted:
 * breakwater does that from outside, configured by config/examples/social-marketing.yaml.
 *
 * Three servers, because three kinds of thing are reached over HTTP:
 * - the app itself. Its database (Prisma) and its Redis are not HTTP, so they are switches
 *   inside it: `dbDown` makes every database-backed endpoint throw Prisma's connection error,
 *   `redisDown` every Redis-backed one ioredis' `ECONNREFUSED`, both answered like Express's
 *   default error handler in development (a 500 HTML page with the message and the stack);
 *   `dbSlowMs` and `redisSlowMs` delay them. Database-backed: `GET /api/posts`,
 *   `GET /api/posts/:id`, `POST /api/posts` (201), `GET /api/campaigns/:id/analytics`.
 *   Redis-backed: `GET /api/trending`, `GET /api/scheduled`. And `GET /health`.
 * - the X API (`GET /2/users/:id/mentions`, `POST /2/tweets`, 201) and
 * - the LLM API (`POST /v1/chat/completions`), each a server of its own that the app calls
 *   (through the gateway) with switches: `status` (answer every request with this 5xx, the way
 *   the provider does), `failNext` (only the next n requests), `hang` / `hangNext` (never
 *   answer), `slowMs`.
 * Every app answer carries `X-Powered-By: Express`, like Express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve, type Running } from './serve';

export interface AppSwitches {
  /** Prisma cannot reach PostgreSQL: database-backed endpoints answer 500 with the stack. */
  dbDown: boolean;
  /** Added before every database-backed answer. */
  dbSlowMs: number;
  /** ioredis has lost its connection: Redis-backed endpoints answer 500 with the stack. */
  redisDown: boolean;
  /** Added before every Redis-backed answer. */
  redisSlowMs: number;
}

export interface ApiSwitches {
  /** 0 = healthy; else every request is answered with this status. */
  status: number;
  /** The next n requests are answered with `failStatus` (then healthy again). */
  failNext: number;
  failStatus: number;
  /** Never answer (the socket stays open until the caller gives up). */
  hang: boolean;
  /** Only the next n requests hang. */
  hangNext: number;
  /** Added before every answer. */
  slowMs: number;
}

export interface Recorded {
  readonly url: string;
  /** `METHOD /path` (no query) of every request that reached it, in order. */
  readonly seen: string[];
  /** Request headers, in the same order. */
  readonly headers: IncomingMessage['headers'][];
  /** Requests to `METHOD /path` (no query) that reached it. */
  hitsOf(methodAndPath: string): number;
}

export interface SocialApp extends Recorded {
  readonly switches: AppSwitches;
}

export interface ExternalApi extends Recorded {
  readonly switches: ApiSwitches;
}

export interface SocialMarketingBackend {
  readonly app: SocialApp;
  readonly x: ExternalApi;
  readonly llm: ExternalApi;
  /** The addresses as the example config reads them: APP_URL, X_API_URL, LLM_API_URL. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

// ---- the app ---------------------------------------------------------------------------------

/** What Prisma throws when PostgreSQL is gone, with the stack a client must never see. */
function prismaError(): Error {
  const err = new Error("Can't reach database server at `postgres.internal:5432`");
  err.name = 'PrismaClientInitializationError';
  err.stack = `PrismaClientInitializationError: ${err.message}\n    at r (/app/node_modules/@prisma/client/runtime/library.js:112:2770)\n    at PostService.list (/app/src/services/post.service.ts:31:22)\n    at /app/src/routes/posts.ts:14:30`;
  return err;
}

/** What ioredis throws while its connection is down. */
function redisError(): Error {
  const err = new Error('connect ECONNREFUSED 10.0.3.7:6379');
  err.stack = `Error: ${err.message}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at TrendingService.top (/app/src/services/trending.service.ts:18:40)`;
  return err;
}

/** Express's default error handler in development: an HTML page with the stack. */
function unhandled(res: ServerResponse, err: Error): void {
  const stack = (err.stack ?? String(err)).replaceAll('\n', '<br>').replaceAll('    ', ' &nbsp; &nbsp;');
  const body = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>${stack}</pre>\n</body>\n</html>\n`;
  res.writeHead(500, {
    'x-powered-by': 'Express',
    'content-security-policy': "default-src 'none'",
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, express = true): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...(express ? { 'x-powered-by': 'Express' } : {}),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Post {
  readonly id: number;
  readonly text: string;
  readonly network: string;
}

class App {
  readonly switches: AppSwitches = { dbDown: false, dbSlowMs: 0, redisDown: false, redisSlowMs: 0 };
  readonly seen: string[] = [];
  readonly headers: IncomingMessage['headers'][] = [];
  private readonly posts: Post[] = [
    { id: 1, text: 'Launch day! #breakwater', network: 'x' },
    { id: 2, text: 'Five tips for resilient APIs', network: 'linkedin' },
  ];

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    const route = `${req.method} ${path}`;
    this.seen.push(route);
    this.headers.push(req.headers);
    const body = await readBody(req);
    try {
      await this.route(req.method ?? 'GET', path, body, res);
    } catch (err) {
      unhandled(res, err as Error);
    }
  };

  private async route(method: string, path: string, body: Buffer, res: ServerResponse): Promise<void> {
    if (method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/api/posts' || path.startsWith('/api/posts/') || path.startsWith('/api/campaigns/')) {
      await this.database();
      return this.databaseRoute(method, path, body, res);
    }
    if (method === 'GET' && (path === '/api/trending' || path === '/api/scheduled')) {
      await this.redis();
      if (path === '/api/trending')
        return sendJson(res, 200, { trending: ['#launch', '#resilience', '#api'], at: Date.now() });
      return sendJson(res, 200, { scheduled: [{ postId: 2, at: '2026-12-01T09:00:00Z' }] });
    }
    return sendJson(res, 404, { error: `Cannot ${method} ${path}` });
  }

  private databaseRoute(method: string, path: string, body: Buffer, res: ServerResponse): void {
    if (method === 'GET' && path === '/api/posts')
      return sendJson(res, 200, { posts: this.posts, at: Date.now() });
    if (method === 'POST' && path === '/api/posts') {
      const { text = '', network = 'x' } = JSON.parse(body.toString() || '{}') as Partial<Post>;
      const post = { id: this.posts.length + 1, text, network };
      this.posts.push(post);
      return sendJson(res, 201, post);
    }
    const one = /^\/api\/posts\/(\d+)$/.exec(path);
    if (method === 'GET' && one) {
      const post = this.posts.find((p) => p.id === Number(one[1]));
      return post ? sendJson(res, 200, post) : sendJson(res, 404, { error: 'post not found' });
    }
    if (method === 'GET' && /^\/api\/campaigns\/\d+\/analytics$/.test(path))
      return sendJson(res, 200, { impressions: 1200, clicks: 87, at: Date.now() });
    return sendJson(res, 404, { error: `Cannot ${method} ${path}` });
  }

  private async database(): Promise<void> {
    if (this.switches.dbSlowMs > 0) await sleep(this.switches.dbSlowMs);
    if (this.switches.dbDown) throw prismaError();
  }

  private async redis(): Promise<void> {
    if (this.switches.redisSlowMs > 0) await sleep(this.switches.redisSlowMs);
    if (this.switches.redisDown) throw redisError();
  }
}

// ---- the external APIs -----------------------------------------------------------------------

type Answer = (method: string, path: string, body: Buffer) => { status: number; value: unknown };

/** The X API's answers (API v2 shapes). */
const xApi: Answer = (method, path, body) => {
  if (method === 'GET' && /^\/2\/users\/\d+\/mentions$/.test(path))
    return {
      status: 200,
      value: { data: [{ id: '1860', text: '@brand love the launch' }], meta: { result_count: 1 } },
    };
  if (method === 'POST' && path === '/2/tweets') {
    const { text = '' } = JSON.parse(body.toString() || '{}') as { text?: string };
    return { status: 201, value: { data: { id: '1861', text } } };
  }
  return {
    status: 404,
    value: { title: 'Not Found Error', type: 'https://api.x.com/2/problems/resource-not-found' },
  };
};

/** An OpenAI-style chat completions API. */
const llmApi: Answer = (method, path) => {
  if (method === 'POST' && path === '/v1/chat/completions')
    return {
      status: 200,
      value: {
        id: 'chatcmpl-1',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Ship it! 🚀' } }],
      },
    };
  return { status: 404, value: { error: { message: 'Unknown request URL', type: 'invalid_request_error' } } };
};

/** A provider's own 5xx answer (its body is the provider's business, not the client's). */
function providerError(status: number): unknown {
  return {
    error: {
      message: `upstream provider error ${status}`,
      type: 'server_error',
      internal: 'shard-7 pool exhausted',
    },
  };
}

class Api {
  readonly switches: ApiSwitches = {
    status: 0,
    failNext: 0,
    failStatus: 503,
    hang: false,
    hangNext: 0,
    slowMs: 0,
  };
  readonly seen: string[] = [];
  readonly headers: IncomingMessage['headers'][] = [];

  constructor(private readonly answer: Answer) {}

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://api').pathname;
    this.seen.push(`${req.method} ${path}`);
    this.headers.push(req.headers);
    const body = await readBody(req);
    const s = this.switches;
    if (s.hang) return;
    if (s.hangNext > 0) return void s.hangNext--;
    if (s.slowMs > 0) await sleep(s.slowMs);
    if (res.destroyed) return;
    if (s.status > 0) return sendJson(res, s.status, providerError(s.status), false);
    if (s.failNext > 0) {
      s.failNext--;
      return sendJson(res, s.failStatus, providerError(s.failStatus), false);
    }
    const { status, value } = this.answer(req.method ?? 'GET', path, body);
    sendJson(res, status, value, false);
  };
}

// ---- servers ---------------------------------------------------------------------------------

function recorded(url: string, source: { seen: string[]; headers: IncomingMessage['headers'][] }): Recorded {
  return {
    url,
    seen: source.seen,
    headers: source.headers,
    hitsOf: (methodAndPath) => source.seen.filter((s) => s === methodAndPath).length,
  };
}

/** Starts the app, the X API and the LLM API on 127.0.0.1:0. */
export async function startSocialMarketingBackend(): Promise<SocialMarketingBackend> {
  const app = new App();
  const x = new Api(xApi);
  const llm = new Api(llmApi);
  const servers = await Promise.all([serve(app.handle), serve(x.handle), serve(llm.handle)]);
  const [appServer, xServer, llmServer] = servers as [Running, Running, Running];
  return {
    app: { ...recorded(appServer.url, app), switches: app.switches },
    x: { ...recorded(xServer.url, x), switches: x.switches },
    llm: { ...recorded(llmServer.url, llm), switches: llm.switches },
    env: { APP_URL: appServer.url, X_API_URL: xServer.url, LLM_API_URL: llmServer.url },
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

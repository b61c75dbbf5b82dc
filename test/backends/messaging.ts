/**
 * Stand-in for the messaging backend of recipe 3 (docs/recipes/messaging.md): an Express +
 * RabbitMQ service, reduced to its routes and failure modes on node:http. Everything it used to
 * do to harden itself (helmet, express-rate-limit, body-size limits, the production error
 * handler, the slow-request logger, the SIGTERM handler, memory warnings) is deleted: breakwater
 * does that from outside, configured by config/examples/messaging.yaml.
 *
 * Routes, as the real app has them:
 * - `POST /api/messages` publishes `{queue, payload}` to the broker (202 `{id, queue}`);
 * - `GET /api/messages?queue=` lists the last messages of a queue; `GET /api/queues` the depths;
 * - `GET /api/reports/export` builds a report (the slow one);
 * - `POST /api/auth/login`, `/api/auth/register`, `/api/auth/reset-password` (the sensitive ones);
 * - `GET /health/live`, `/health/ready` (503 while the broker is unreachable),
 *   `/health/detailed` (per dependency).
 * Failure switches a test flips: `brokerDown` (publishing throws; the unhandled error is
 * answered like Express in development, a 500 with the message and the stack), `slowMs` (every
 * `/api` answer waits that long first), `exportMs` (the report takes that long).
 * Like Express, every answer carries `X-Powered-By: Express`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from './serve';

export interface MessagingSwitches {
  /** The AMQP connection is gone: publishes fail with a 500 carrying the stack; ready is 503. */
  brokerDown: boolean;
  /** Added before every /api answer. */
  slowMs: number;
  /** How long `GET /api/reports/export` takes. */
  exportMs: number;
}

export interface MessagingBackend {
  readonly url: string;
  readonly switches: MessagingSwitches;
  /** `METHOD /path` (no query) of every request that reached the app, health probes included. */
  readonly seen: string[];
  /** Request headers of every request, in order (to check what the gateway sent on). */
  readonly headers: IncomingMessage['headers'][];
  /** Requests to `METHOD /path` that reached the app. */
  hitsOf(methodAndPath: string): number;
  close(): Promise<void>;
}

interface Message {
  readonly id: number;
  readonly queue: string;
  readonly payload: unknown;
}

/** What an Express app in development answers for an error nobody caught. */
function unhandled(res: ServerResponse, err: Error): void {
  send(res, 500, { error: err.message, stack: err.stack });
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'x-powered-by': 'Express',
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

/** The error amqplib throws when the channel is gone, with the stack a client must never see. */
function brokerError(): Error {
  const err = new Error('Channel closed by server: 320 (CONNECTION-FORCED) with message "broker forced"');
  err.stack = `${err.message}\n    at Channel.publish (/app/node_modules/amqplib/lib/channel_model.js:159:12)\n    at MessageService.publish (/app/src/services/message.service.js:42:18)`;
  return err;
}

class MessagingApp {
  readonly switches: MessagingSwitches = { brokerDown: false, slowMs: 0, exportMs: 0 };
  readonly seen: string[] = [];
  readonly headers: IncomingMessage['headers'][] = [];
  private readonly queues = new Map<string, Message[]>();
  private nextId = 1;

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://app');
    const route = `${req.method} ${url.pathname}`;
    this.seen.push(route);
    this.headers.push(req.headers);
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return; // the client (the gateway) went away mid-body: nothing to answer
    }
    if (url.pathname.startsWith('/api') && this.switches.slowMs > 0) await sleep(this.switches.slowMs);
    try {
      this.route(route, url, body, res);
    } catch (err) {
      unhandled(res, err as Error);
    }
  };

  private route(route: string, url: URL, body: Buffer, res: ServerResponse): void {
    switch (route) {
      case 'GET /health/live':
        return send(res, 200, { status: 'ok' });
      case 'GET /health/ready':
        return this.switches.brokerDown
          ? send(res, 503, { status: 'not_ready', rabbitmq: 'disconnected' })
          : send(res, 200, { status: 'ready' });
      case 'GET /health/detailed':
        return send(res, this.switches.brokerDown ? 503 : 200, {
          status: this.switches.brokerDown ? 'degraded' : 'ok',
          dependencies: { rabbitmq: this.switches.brokerDown ? 'disconnected' : 'connected' },
        });
      case 'POST /api/messages':
        return this.publish(body, res);
      case 'GET /api/messages':
        return send(res, 200, {
          messages: this.queues.get(url.searchParams.get('queue') ?? 'default') ?? [],
        });
      case 'GET /api/queues':
        return send(res, 200, {
          queues: [...this.queues].map(([name, messages]) => ({ name, depth: messages.length })),
        });
      case 'GET /api/reports/export':
        return this.export(res);
      case 'POST /api/auth/login':
      case 'POST /api/auth/register':
      case 'POST /api/auth/reset-password':
        return send(res, 200, { ok: true, token: 'session-token' });
      default:
        return send(res, 404, { error: `Cannot ${route}` });
    }
  }

  /** The slow one; abandoned (timer cleared) when the caller goes away. */
  private export(res: ServerResponse): void {
    const timer = setTimeout(
      () => send(res, 200, { report: 'queues', rows: this.queues.size }),
      this.switches.exportMs,
    );
    res.on('close', () => clearTimeout(timer));
  }

  private publish(body: Buffer, res: ServerResponse): void {
    if (this.switches.brokerDown) throw brokerError();
    const { queue = 'default', payload } = JSON.parse(body.toString() || '{}') as {
      queue?: string;
      payload?: unknown;
    };
    const message = { id: this.nextId++, queue, payload };
    const list = this.queues.get(queue) ?? [];
    list.push(message);
    this.queues.set(queue, list.slice(-100));
    send(res, 202, { id: message.id, queue });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the stand-in on 127.0.0.1:0. */
export async function startMessagingBackend(): Promise<MessagingBackend> {
  const app = new MessagingApp();
  const { url, close } = await serve((req, res) => void app.handle(req, res));
  return {
    url,
    switches: app.switches,
    seen: app.seen,
    headers: app.headers,
    hitsOf: (methodAndPath) => app.seen.filter((s) => s === methodAndPath).length,
    close,
  };
}

/**
 * @module admin/server
 * The admin listener (default 127.0.0.1:9090): /metrics, the health endpoints, the `/admin/*`
 * API and the dashboard at `/`. It only parses, authorises and calls the GatewayControl
 * (control/control.ts) it is given: the gateway's own in one process, the cluster primary's
 * fan-out with workers. It stays up while the proxy listener drains. /metrics and /health*
 * stay open for probes and scrapers; `/admin/*` needs the bearer token when one is set, and
 * mutations are POST only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ControlError, type GatewayControl } from '../control/control';
import type { Logger } from '../observability/logger';
import { authorized, crossSite } from './auth';
import { ENDPOINTS, type Answer, type Endpoint } from './endpoints';

export interface AdminOptions {
  readonly control: GatewayControl;
  /** The admin token of the running config (read per request: a reload may change it). */
  readonly token: () => string | undefined;
  readonly log: Logger;
}

export function createAdminServer(options: AdminOptions): Server {
  return createServer((req, res) => {
    // A POST's body means nothing here; read it so the connection can be reused.
    req.resume();
    handle(req, res, options).catch((err: unknown) => fail(err, req, res, options.log));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: AdminOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  if (path.startsWith('/admin/') && !authorized(req, options.token())) {
    res.setHeader('www-authenticate', 'Bearer realm="breakwater admin"');
    return sendJson(res, 401, errorBody('UNAUTHORIZED', 'A valid bearer token is required'), req);
  }
  const candidates = ENDPOINTS.filter((e) => e.pattern.test(path));
  if (candidates.length === 0)
    return sendJson(res, 404, errorBody('NOT_FOUND', 'No such admin endpoint'), req);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const endpoint = candidates.find((e) => e.method === method);
  if (!endpoint) {
    const allow = candidates.map((e) => (e.method === 'GET' ? 'GET, HEAD' : e.method)).join(', ');
    res.setHeader('allow', allow);
    return sendJson(res, 405, errorBody('METHOD_NOT_ALLOWED', `Use ${allow}`), req);
  }
  if (endpoint.method === 'POST' && crossSite(req))
    return sendJson(res, 403, errorBody('CROSS_SITE', 'Cross-site requests cannot change the gateway'), req);
  const params = paramsOf(endpoint, path);
  if (!params) return sendJson(res, 400, errorBody('BAD_REQUEST', 'Malformed percent-encoding'), req);
  send(res, await endpoint.handle({ control: options.control, params, query: url.searchParams }), req);
}

function paramsOf(endpoint: Endpoint, path: string): string[] | undefined {
  try {
    return (endpoint.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

function fail(err: unknown, req: IncomingMessage, res: ServerResponse, log: Logger): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof ControlError)
    return sendJson(res, err.status, errorBody(err.code, err.message, err.details), req);
  log.error({ err, path: req.url?.split('?', 1)[0] }, 'admin endpoint failed');
  sendJson(res, 500, errorBody('INTERNAL', 'Admin endpoint failed'), req);
}

function errorBody(code: string, message: string, details?: Readonly<Record<string, unknown>>): unknown {
  return { error: { code, message, ...details } };
}

function sendJson(res: ServerResponse, status: number, value: unknown, req: IncomingMessage): void {
  send(res, { status, json: value }, req);
}

function send(res: ServerResponse, answer: Answer, req: IncomingMessage): void {
  const body = answer.text ?? JSON.stringify(answer.json);
  res.writeHead(answer.status, {
    'content-type': answer.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...answer.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * @module admin/server
 * The admin listener (default 127.0.0.1:9090): /metrics for Prometheus and the health
 * endpoints for probes. It stays up while the proxy listener drains.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { healthReport, notReadyReasons, type HealthContext } from './health';

export interface AdminDeps {
  readonly metrics: GatewayMetrics;
  readonly health: () => HealthContext;
  readonly log: Logger;
}

type AdminRoute = (req: IncomingMessage, res: ServerResponse, deps: AdminDeps) => void | Promise<void>;

const ROUTES: Record<string, AdminRoute> = {
  '/metrics': async (_req, res, { metrics }) => {
    const body = await metrics.render();
    send(res, 200, metrics.registry.contentType, body);
  },
  '/health/live': (_req, res) => sendJson(res, 200, { status: 'ok' }),
  '/health/ready': (_req, res, { health }) => {
    const reasons = notReadyReasons(health());
    sendJson(
      res,
      reasons.length ? 503 : 200,
      reasons.length ? { status: 'not_ready', reasons } : { status: 'ready' },
    );
  },
  '/health': (_req, res, { health }) => {
    const report = healthReport(health());
    sendJson(res, report.status === 'down' ? 503 : 200, report);
  },
};

export function createAdminServer(deps: AdminDeps): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = ROUTES[path];
    if (!route)
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'No such admin endpoint' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET' } });
    }
    Promise.resolve(route(req, res, deps)).catch((err: unknown) => {
      deps.log.error({ err, path }, 'admin endpoint failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Admin endpoint failed' } });
    });
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * @module admin/server
 * The admin listener (default 127.0.0.1:9090): /metrics for Prometheus and the health
 * endpoints for probes. It stays up while the proxy listener drains. In cluster mode the
 * primary runs it and its sources ask every worker (see cluster/primary.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { healthReport, notReadyReasons, type HealthContext, type HealthReport } from './health';

/** Where the admin endpoints get their answers. */
export interface AdminSources {
  readonly metrics: () => Promise<string>;
  readonly metricsContentType: string;
  readonly health: () => Promise<HealthReport>;
  /** Why the gateway is not ready (empty = ready). */
  readonly notReady: () => Promise<string[]>;
  readonly log: Logger;
}

/** Sources for a single process: its own registry and route table. */
export function localSources(
  metrics: GatewayMetrics,
  health: () => HealthContext,
  log: Logger,
): AdminSources {
  return {
    metrics: () => metrics.render(),
    metricsContentType: metrics.registry.contentType,
    health: async () => healthReport(health()),
    notReady: async () => notReadyReasons(health()),
    log,
  };
}

type AdminRoute = (req: IncomingMessage, res: ServerResponse, sources: AdminSources) => Promise<void>;

const ROUTES: Record<string, AdminRoute> = {
  '/metrics': async (_req, res, sources) =>
    send(res, 200, sources.metricsContentType, await sources.metrics()),
  '/health/live': async (_req, res) => sendJson(res, 200, { status: 'ok' }),
  '/health/ready': async (_req, res, sources) => {
    const reasons = await sources.notReady();
    sendJson(
      res,
      reasons.length ? 503 : 200,
      reasons.length ? { status: 'not_ready', reasons } : { status: 'ready' },
    );
  },
  '/health': async (_req, res, sources) => {
    const report = await sources.health();
    sendJson(res, report.status === 'down' ? 503 : 200, report);
  },
};

export function createAdminServer(sources: AdminSources): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = ROUTES[path];
    if (!route)
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'No such admin endpoint' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET' } });
    }
    route(req, res, sources).catch((err: unknown) => {
      sources.log.error({ err, path }, 'admin endpoint failed');
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

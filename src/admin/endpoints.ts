/**
 * @module admin/endpoints
 * The admin API's endpoint table (DESIGN.md "Admin listener"): method, path pattern, whether
 * it needs the token, and the GatewayControl call it makes. Nothing here acts on the gateway
 * itself; admin/server.ts matches, authorises and writes the answer.
 */
import type { GatewayControl } from '../control/control';
import { dashboardData } from './dashboard-data';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard-page';
import { OPENAPI } from './openapi';

/** What an endpoint returns: a JSON value or a ready text body. */
export interface Answer {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface EndpointCall {
  readonly control: GatewayControl;
  /** Decoded path parameters, in pattern order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

export interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** Whether the admin token is required (every /admin/* path). */
  readonly auth: boolean;
  readonly handle: (call: EndpointCall) => Promise<Answer>;
}

const ok = (json: unknown): Answer => ({ status: 200, json });
/** `?route=` (empty counts as absent). */
const routeOf = (query: URLSearchParams): string | undefined => query.get('route') || undefined;

function get(path: string, auth: boolean, handle: Endpoint['handle']): Endpoint {
  return { method: 'GET', pattern: exact(path), auth, handle };
}

function post(pattern: RegExp, handle: Endpoint['handle']): Endpoint {
  return { method: 'POST', pattern, auth: true, handle };
}

function exact(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

const SEGMENT = '([^/]+)';

const DASHBOARD: Answer = {
  status: 200,
  text: DASHBOARD_HTML,
  contentType: 'text/html; charset=utf-8',
  headers: { 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY' },
};

export const ENDPOINTS: readonly Endpoint[] = [
  get('/', false, async () => DASHBOARD),
  get('/metrics', false, async ({ control }) => {
    const { contentType, text } = await control.metrics();
    return { status: 200, text, contentType };
  }),
  get('/health/live', false, async () => ok({ status: 'ok' })),
  get('/health/ready', false, async ({ control }) => {
    const reasons = await control.notReady();
    return reasons.length ? { status: 503, json: { status: 'not_ready', reasons } } : ok({ status: 'ready' });
  }),
  get('/health', false, async ({ control }) => {
    const report = await control.health();
    return { status: report.status === 'down' ? 503 : 200, json: report };
  }),
  get('/admin/config', true, async ({ control }) => ok(await control.config())),
  get('/admin/routes', true, async ({ control }) => ok(await control.routes())),
  get('/admin/stats', true, async ({ control }) => ok(await control.stats())),
  get('/admin/cache', true, async ({ control }) => ok(await control.cacheStats())),
  get('/admin/reloads', true, async ({ control }) => ok({ reloads: await control.reloads() })),
  get('/admin/dashboard.json', true, async ({ control }) => ok(await dashboardData(control))),
  get('/admin/openapi.json', true, async () => ok(OPENAPI)),
  post(exact('/admin/reload'), async ({ control }) => {
    const record = await control.reload('admin');
    return { status: record.result === 'success' ? 200 : 422, json: record };
  }),
  post(exact('/admin/cache/purge'), async ({ control, query }) =>
    ok(await control.purgeCache(routeOf(query))),
  ),
  post(new RegExp(`^/admin/breakers/${SEGMENT}/reset$`), async ({ control, params, query }) =>
    ok(await control.resetBreaker(params[0]!, routeOf(query))),
  ),
  post(new RegExp(`^/admin/breakers/${SEGMENT}/open$`), async ({ control, params, query }) =>
    ok(await control.openBreaker(params[0]!, routeOf(query))),
  ),
  post(new RegExp(`^/admin/upstreams/${SEGMENT}/targets/${SEGMENT}/drain$`), async ({ control, params }) =>
    ok(await control.drainTarget(params[0]!, params[1]!)),
  ),
  post(new RegExp(`^/admin/upstreams/${SEGMENT}/targets/${SEGMENT}/undrain$`), async ({ control, params }) =>
    ok(await control.undrainTarget(params[0]!, params[1]!)),
  ),
];

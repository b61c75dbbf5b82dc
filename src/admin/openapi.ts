/**
 * @module admin/openapi
 * `GET /admin/openapi.json`: the admin API described as OpenAPI 3.1, kept beside the endpoint
 * table (admin/endpoints.ts) it describes; a unit test checks that both list the same paths.
 */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (description: string, schema: object) => ({ description, content: json(schema) });

const ERRORS = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '404': answer('Unknown upstream, route or target', ref('Error')),
};

const routeQuery = (what: string) => ({
  name: 'route',
  in: 'query',
  required: false,
  description: what,
  schema: { type: 'string' },
});
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});

function read(summary: string, schema: object, secured = true): object {
  return {
    get: {
      summary,
      ...(secured ? {} : { security: [] }),
      responses: { '200': answer('OK', schema), ...(secured ? { '401': ERRORS['401'] } : {}) },
    },
  };
}

function action(summary: string, schema: object, parameters: object[] = []): object {
  return { post: { summary, parameters, responses: { '200': answer('Done', schema), ...ERRORS } } };
}

const TARGET_PARAMS = [
  pathParam('upstream', 'Upstream name'),
  pathParam('url', 'Target URL as configured, percent-encoded (http%3A%2F%2F10.0.0.5%3A3000)'),
];

const PATHS = {
  '/': {
    get: {
      summary: 'Status dashboard (HTML)',
      security: [],
      responses: { '200': { description: 'HTML page' } },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus text format',
      security: [],
      responses: { '200': { description: 'Metrics' } },
    },
  },
  '/health': read(
    'Gateway health: upstreams, targets, breakers, redis, config version',
    ref('Health'),
    false,
  ),
  '/health/live': read('200 while the process serves', { type: 'object' }, false),
  '/health/ready': read('200 when ready, 503 with reasons otherwise', { type: 'object' }, false),
  '/admin/config': read('The running config, secrets redacted', { type: 'object' }),
  '/admin/routes': read('The live compiled route table with each route’s policy chain', ref('Routes')),
  '/admin/stats': read('Per route request and error rates and p50/p95/p99 over 1/5/15 min', ref('Stats')),
  '/admin/cache': read(
    'Response cache per cached route: entries, bytes, hits/misses/stale/bypass since start, hit ratio',
    ref('Cache'),
  ),
  '/admin/reloads': read('Recent config reloads, newest first', {
    type: 'object',
    properties: { reloads: { type: 'array', items: ref('Reload') } },
  }),
  '/admin/dashboard.json': read('Everything the dashboard shows, in one answer', { type: 'object' }),
  '/admin/openapi.json': read('This document', { type: 'object' }),
  '/admin/reload': {
    post: {
      summary: 'Reload gateway.yaml (same as SIGHUP); an invalid file changes nothing',
      responses: {
        '200': answer('Reloaded', ref('Reload')),
        '422': answer('Refused: the file is invalid (issues give file:line:col)', ref('Reload')),
        '401': ERRORS['401'],
      },
    },
  },
  '/admin/cache/purge': action('Purge the response cache, all routes or ?route=', ref('Purge'), [
    routeQuery('Only this route’s entries'),
  ]),
  '/admin/breakers/{upstream}/reset': action('Close the upstream’s breakers (or ?route=’s)', ref('Breaker'), [
    pathParam('upstream', 'Upstream name'),
    routeQuery('Only the breaker this route goes through'),
  ]),
  '/admin/breakers/{upstream}/open': action(
    'Force the upstream’s breakers (or ?route=’s) open until reset',
    ref('Breaker'),
    [pathParam('upstream', 'Upstream name'), routeQuery('Only the breaker this route goes through')],
  ),
  '/admin/upstreams/{upstream}/targets/{url}/drain': action(
    'Stop new traffic to one target',
    ref('Target'),
    TARGET_PARAMS,
  ),
  '/admin/upstreams/{upstream}/targets/{url}/undrain': action(
    'Resume traffic to one target',
    ref('Target'),
    TARGET_PARAMS,
  ),
};

const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  Reload: {
    type: 'object',
    properties: {
      at: { type: 'string', format: 'date-time' },
      trigger: { enum: ['file', 'signal', 'admin'] },
      result: { enum: ['success', 'failure'] },
      version: { type: 'string' },
      changed: { type: 'boolean' },
      durationMs: { type: 'number' },
      issues: { type: 'array', items: { type: 'string' } },
      restartNeeded: { type: 'array', items: { type: 'string' } },
    },
  },
  Breaker: {
    type: 'object',
    properties: {
      upstream: { type: 'string' },
      route: { type: ['string', 'null'] },
      breakers: { type: 'array', items: { type: 'string' } },
      state: { enum: ['open', 'closed'] },
    },
  },
  Target: {
    type: 'object',
    properties: {
      upstream: { type: 'string' },
      target: { type: 'string' },
      draining: { type: 'boolean' },
      inflight: { type: 'integer' },
    },
  },
  Cache: {
    type: 'object',
    properties: {
      maxBytes: { type: 'integer', description: 'server.cache.maxSize: the memory bound of each process' },
      workers: { type: 'integer', description: 'Processes counted (each has its own memory store)' },
      redis: { type: 'object', properties: { status: { enum: ['up', 'down', 'disabled'] } } },
      totals: ref('CacheFigures'),
      routes: {
        type: 'array',
        items: {
          allOf: [{ type: 'object', properties: { route: { type: 'string' } } }, ref('CacheFigures')],
        },
      },
    },
  },
  CacheFigures: {
    type: 'object',
    properties: {
      entries: { type: 'integer', description: 'Stored responses in memory (each Vary variant)' },
      bytes: { type: 'integer', description: 'Their bytes in memory' },
      hits: { type: 'integer' },
      misses: { type: 'integer' },
      stale: { type: 'integer' },
      revalidated: { type: 'integer' },
      bypass: { type: 'integer' },
      hitRatio: {
        type: ['number', 'null'],
        description: '(hits + stale + revalidated) / (those + misses); null before any lookup',
      },
    },
  },
  Purge: {
    type: 'object',
    properties: { route: { type: ['string', 'null'] }, purged: { type: 'integer' } },
  },
  Health: {
    type: 'object',
    properties: {
      status: { enum: ['ok', 'degraded', 'down'] },
      version: { type: 'string' },
      loadedAt: { type: 'string', format: 'date-time' },
      uptimeSeconds: { type: 'number' },
      redis: { type: 'object' },
      upstreams: { type: 'object', additionalProperties: { type: 'object' } },
    },
  },
  Routes: {
    type: 'object',
    properties: {
      source: { type: 'string' },
      version: { type: 'string' },
      routes: { type: 'array', items: { type: 'object' } },
    },
  },
  Stats: {
    type: 'object',
    properties: {
      generatedAt: { type: 'string', format: 'date-time' },
      routes: { type: 'array', items: { type: 'object' } },
      slowest: { type: 'array', items: { type: 'string' } },
      mostFailing: { type: 'array', items: { type: 'string' } },
    },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'breakwater admin API',
    version: '1',
    description:
      'Served on the admin listener. With server.admin.token set, every /admin/* path needs ' +
      '`Authorization: Bearer <token>`; /metrics and /health* stay open. With workers > 1 every ' +
      'action applies to every worker and every read answers for the whole gateway.',
  },
  security: [{ bearer: [] }],
  paths: PATHS,
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    responses: {
      Unauthorized: {
        description: 'Missing or wrong token (WWW-Authenticate: Bearer)',
        content: json(ref('Error')),
      },
    },
    schemas: SCHEMAS,
  },
} as const;

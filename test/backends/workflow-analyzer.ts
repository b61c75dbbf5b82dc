/**
 * Stand-in for the workflow analyzer of recipe 4 (docs/recipes/workflow-analyzer.md): an
 * Express + Redis service that analyses automation workflows, reduced to its routes and failure
 * modes on node:http. Its hardening is deleted: the Redis cache with its in-memory LRU fallback
 * and TTLs per data kind, compression(), the prom-client middleware, the subscription-tier
 * rate limiters (with their X-RateLimit-Tier header and "upgrade to Pro" 429) and the admin
 * cache endpoints. breakwater does that from outside (config/examples/workflow-analyzer.yaml).
 * Every answer is computed afresh, as the app does without its cache.
 *
 * Routes, as the real app has them:
 * - `GET /api/templates` (the workflow template catalogue, ~4 KB of JSON),
 *   `GET /api/integrations` (the supported integrations, ~2 KB), `GET /api/stats` (public usage
 *   figures, under 1 KB): the same for everyone;
 * - `POST /api/analysis` runs the expensive analysis of the posted workflow (201 with its id);
 *   `GET /api/analysis/:id` returns a finished analysis (immutable once made);
 * - `GET /api/workflows`: the caller's own workflows (by API key), never shared;
 * - `GET /health`.
 * Failure switches: `failing` (every /api answer is a 500), `analysisMs` (analysis time).
 * Like Express, every answer carries `X-Powered-By: Express`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from './serve';

export interface AnalyzerSwitches {
  /** Every /api answer is a 500 (the app's Redis or its analysis engine is broken). */
  failing: boolean;
  /** How long an analysis takes. */
  analysisMs: number;
}

export interface AnalyzerBackend {
  readonly url: string;
  readonly switches: AnalyzerSwitches;
  /** `METHOD /path` (no query) of every request that reached the app. */
  readonly seen: string[];
  /** Requests to `METHOD /path` that reached the app. */
  hitsOf(methodAndPath: string): number;
  close(): Promise<void>;
}

const INTEGRATIONS = [
  'slack',
  'github',
  'gmail',
  'notion',
  'airtable',
  'stripe',
  'hubspot',
  'jira',
  'trello',
];

/** Deterministic, not too repetitive catalogue text (so compression has real work to do). */
function templates(): unknown[] {
  return Array.from({ length: 24 }, (_, i) => ({
    id: `tpl-${i + 1}`,
    name: `Sync ${INTEGRATIONS[i % INTEGRATIONS.length]} to ${INTEGRATIONS[(i * 5 + 3) % INTEGRATIONS.length]}`,
    nodes: 3 + ((i * 7) % 9),
    description: `When a record changes in one tool, copy it to another, ${i % 3 === 0 ? 'with' : 'without'} deduplication; step ${i * 13}.`,
  }));
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

class AnalyzerApp {
  readonly switches: AnalyzerSwitches = { failing: false, analysisMs: 0 };
  readonly seen: string[] = [];
  private readonly analyses = new Map<string, unknown>();

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { pathname } = new URL(req.url ?? '/', 'http://app');
    const route = `${req.method} ${pathname}`;
    this.seen.push(route);
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    if (pathname.startsWith('/api') && this.switches.failing)
      return send(res, 500, { error: "ReplyError: READONLY You can't write against a read only replica." });
    if (route === 'GET /health') return send(res, 200, { status: 'ok' });
    if (route === 'GET /api/templates') return send(res, 200, { templates: templates() });
    if (route === 'GET /api/integrations')
      return send(res, 200, {
        integrations: INTEGRATIONS.map((name, i) => ({
          name,
          triggers: [`${name}.created`, `${name}.updated`, `${name}.deleted`],
          actions: [`${name}.create`, `${name}.update`, `${name}.search`, `${name}.archive`],
          rateLimitPerMinute: 60 * (i + 1),
          docs: `https://docs.example.com/integrations/${name}`,
        })),
      });
    if (route === 'GET /api/stats')
      return send(res, 200, { workflowsAnalysed: this.analyses.size, uptime: 1 });
    if (route === 'GET /api/workflows')
      return send(res, 200, { owner: ownerOf(req), workflows: [{ id: 'wf-1', name: 'Lead intake' }] });
    if (route === 'POST /api/analysis') return void this.analyse(body, res);
    const result = /^GET \/api\/analysis\/([a-f0-9]{16})$/.exec(route);
    if (result) {
      const found = this.analyses.get(result[1]!);
      return found ? send(res, 200, found) : send(res, 404, { error: 'analysis not found' });
    }
    send(res, 404, { error: `Cannot ${route}` });
  };

  private async analyse(body: Buffer, res: ServerResponse): Promise<void> {
    const id = createHash('sha256').update(body).digest('hex').slice(0, 16);
    if (this.switches.analysisMs > 0) await new Promise((r) => setTimeout(r, this.switches.analysisMs));
    const analysis = { id, score: body.length % 100, findings: ['no error handling on node 3'] };
    this.analyses.set(id, analysis);
    send(res, 201, analysis);
  }
}

/** Who a request belongs to, as the app sees it (a prefix of the key's hash, never the key). */
function ownerOf(req: IncomingMessage): string {
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? createHash('sha256').update(key).digest('hex').slice(0, 8) : 'anonymous';
}

/** Starts the stand-in on 127.0.0.1:0. */
export async function startAnalyzerBackend(): Promise<AnalyzerBackend> {
  const app = new AnalyzerApp();
  const { url, close } = await serve((req, res) => void app.handle(req, res));
  return {
    url,
    switches: app.switches,
    seen: app.seen,
    hitsOf: (methodAndPath) => app.seen.filter((s) => s === methodAndPath).length,
    close,
  };
}

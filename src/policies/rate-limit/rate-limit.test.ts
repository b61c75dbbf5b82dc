/**
 * The rate-limit stage on its own, with the in-memory backend: each key kind, lists with
 * `methods`, burst, shadow mode, consumer tiers, every header form, the 429 Reply, and what
 * survives a rebuild. `next` is a plain function (no sockets); the gateway, the cluster backend
 * and Redis are exercised in test/integration/rate-limit*.test.ts.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseConfig } from '../../config/load';
import type { GatewayConfig, RouteConfig } from '../../config/types';
import { NO_EVENTS, type GatewayEvents } from '../../observability/events';
import { createLogger } from '../../observability/logger';
import type { Exchange } from '../../pipeline/exchange';
import { StaticBody } from '../../pipeline/static-body';
import type { Next, Reply, Stage, StageDeps } from '../../pipeline/stage';
import { StateStore } from '../../pipeline/state-store';
import { UpstreamUnavailableError } from '../../errors';
import { rateLimitFactory } from './index';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function configOf(routeExtra: string, top = ''): GatewayConfig {
  return parseConfig(
    `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams: { api: { targets: ["http://127.0.0.1:1"] } }
routes:
  - name: r
    match: { pathPrefix: / }
    upstream: api
${routeExtra}
${top}
`,
    'test.yaml',
    {},
  );
}

interface Limited {
  route: string;
  tier: string;
  mode: string;
}

interface Built {
  stage: Stage;
  state: StateStore;
  limited: Limited[];
  logs: Record<string, unknown>[];
}

const stores: StateStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.disposeAll()));

function build(config: GatewayConfig, previous?: StateStore): Built {
  const limited: Limited[] = [];
  const events: GatewayEvents = {
    ...NO_EVENTS,
    rateLimited: (route, tier, mode) => limited.push({ route, tier, mode }),
  };
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ stream }).logger;
  const state = new StateStore(previous);
  stores.push(state);
  const deps = {
    events,
    state,
    shared: undefined,
    clustered: false,
    server: config.server,
  } as unknown as StageDeps;
  const factory = rateLimitFactory(config.consumers, config.tiers, log);
  const route: RouteConfig = config.routes[0]!;
  const slice = factory.select(route, config.upstreams.api!, config.server);
  const stage = factory.create(slice!, deps, { route: 'r', upstream: 'api' })!;
  return { stage, state, limited, logs };
}

interface Req {
  ip?: string;
  method?: string;
  headers?: Record<string, string>;
}

function exchange({ ip = '10.0.0.1', method = 'GET', headers = {} }: Req = {}): Exchange {
  const req = { method, headers, complete: true };
  return { req, reqId: 'req-1', clientIp: ip, reason: '', clientGone: false } as unknown as Exchange;
}

/** A `next` that answers 200 (or throws `error`) and counts its calls. */
function upstream(error?: Error): Next & { calls: number } {
  const next = Object.assign(
    (): Promise<Reply> => {
      next.calls++;
      if (error) return Promise.reject(error);
      const reply: Reply = {
        status: 200,
        headers: {},
        body: new StaticBody(Buffer.from('ok')),
        source: 'upstream',
      };
      return Promise.resolve(reply);
    },
    { calls: 0 },
  );
  return next;
}

async function statuses(stage: Stage, count: number, req: Req = {}): Promise<number[]> {
  const next = upstream();
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await stage(exchange(req), next)).status);
  return out;
}

const bodyOf = (reply: Reply): Record<string, unknown> => {
  let text = '';
  reply.body.sendTo(
    {
      write: () => true,
      end: (chunk?: unknown) => {
        if (Buffer.isBuffer(chunk)) text += chunk.toString();
      },
    } as never,
    () => undefined,
  );
  return (JSON.parse(text) as { error: Record<string, unknown> }).error;
};

describe('rate-limit stage', () => {
  it('is absent when the route has no rateLimit', () => {
    const config = configOf('');
    const factory = rateLimitFactory(undefined, {});
    expect(factory.select(config.routes[0]!, config.upstreams.api!, config.server)).toBeUndefined();
  });

  it('key ip: counts each client address on its own', async () => {
    const { stage } = build(configOf('    rateLimit: { key: ip, limit: 2, window: 1m }'));
    expect(await statuses(stage, 3, { ip: '10.0.0.1' })).toEqual([200, 200, 429]);
    expect(await statuses(stage, 3, { ip: '10.0.0.2' })).toEqual([200, 200, 429]);
  });

  it('key route: one count for every client', async () => {
    const { stage } = build(configOf('    rateLimit: { key: route, limit: 2, window: 1m }'));
    expect(await statuses(stage, 1, { ip: '10.0.0.1' })).toEqual([200]);
    expect(await statuses(stage, 2, { ip: '10.0.0.2' })).toEqual([200, 429]);
  });

  it('key header: counts by value; without the header, by client IP', async () => {
    const { stage } = build(configOf('    rateLimit: { key: "header:x-client", limit: 1, window: 1m }'));
    expect(await statuses(stage, 2, { headers: { 'x-client': 'a' } })).toEqual([200, 429]);
    expect(await statuses(stage, 1, { headers: { 'x-client': 'b' } })).toEqual([200]);
    // Missing header: its own count per IP, not shared with anyone who sends the header.
    expect(await statuses(stage, 2, { ip: '10.0.0.7' })).toEqual([200, 429]);
    expect(await statuses(stage, 1, { ip: '10.0.0.8' })).toEqual([200]);
  });

  it('a list: all must pass; a rule whose methods do not match is neither checked nor spent', async () => {
    const { stage } = build(
      configOf(`    rateLimit:
      - { key: ip, limit: 5, window: 1m }
      - { key: ip, limit: 1, window: 1m, methods: [POST] }`),
    );
    expect(await statuses(stage, 1, { method: 'POST' })).toEqual([200]);
    expect(await statuses(stage, 1, { method: 'POST' })).toEqual([429]);
    // GETs only count against the first rule: 2 of its 5 are spent by the POSTs above.
    expect(await statuses(stage, 4, { method: 'GET' })).toEqual([200, 200, 200, 429]);
  });

  it('a refusal stops at the refusing rule: later rules are not spent', async () => {
    const { stage } = build(
      configOf(`    rateLimit:
      - { key: "header:x-k", limit: 1, window: 1m }
      - { key: route, limit: 3, window: 1m }`),
    );
    const a = { headers: { 'x-k': 'a' } };
    expect(await statuses(stage, 3, a)).toEqual([200, 429, 429]);
    // Only one point of the route's 3 went: the two refusals did not reach it.
    expect(await statuses(stage, 3, { headers: { 'x-k': 'b' } })).toEqual([200, 429, 429]);
    expect(await statuses(stage, 1, { headers: { 'x-k': 'c' } })).toEqual([200]);
    expect(await statuses(stage, 1, { headers: { 'x-k': 'd' } })).toEqual([429]);
  });

  it('burst: limit + burst pass per window; the headers advertise the limit', async () => {
    const { stage } = build(configOf('    rateLimit: { key: ip, limit: 2, burst: 2, window: 1m }'));
    const next = upstream();
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await stage(exchange(), next));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(replies.map((r) => r.headers['ratelimit-remaining'])).toEqual(['1', '0', '0', '0', '0']);
    expect(replies[0]!.headers['ratelimit-limit']).toBe('2');
  });

  it('429: a Reply (no throw) with Retry-After, retryAfter, the headers and reason rate_limited', async () => {
    const { stage, limited } = build(configOf('    rateLimit: { key: ip, limit: 1, window: 30s }'));
    const next = upstream();
    await stage(exchange(), next);
    const ex = exchange();
    const reply = await stage(ex, next);
    expect(next.calls).toBe(1);
    expect(reply.status).toBe(429);
    expect(reply.source).toBe('error');
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(29);
    expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(reply.headers['ratelimit-remaining']).toBe('0');
    expect(reply.headers['ratelimit-reset']).toBe(reply.headers['retry-after']);
    const body = bodyOf(reply);
    expect(body).toMatchObject({
      code: 'RATE_LIMITED',
      requestId: 'req-1',
      retryAfter: Number(reply.headers['retry-after']),
    });
    expect(body.tier).toBeUndefined();
    expect(ex.reason).toBe('rate_limited');
    expect(limited).toEqual([{ route: 'r', tier: '', mode: 'enforce' }]);
  });

  it('errors from below come back as Replies that carry the rate-limit headers too', async () => {
    const { stage } = build(configOf('    rateLimit: { key: ip, limit: 3, window: 1m }'));
    const reply = await stage(exchange(), upstream(new UpstreamUnavailableError('connect_error')));
    expect(reply.status).toBe(502);
    expect(reply.headers['ratelimit-remaining']).toBe('2');
  });

  it.each([
    [
      'standard',
      {
        'ratelimit-limit': '3',
        'ratelimit-remaining': '2',
        'ratelimit-reset': '60',
        'ratelimit-policy': '3;w=60',
      },
    ],
    ['draft', { 'ratelimit-policy': '"default";q=3;w=60', ratelimit: '"default";r=2;t=60' }],
    [
      'legacy',
      {
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '2',
        'x-ratelimit-reset': expect.stringMatching(/^\d{10}$/) as unknown as string,
      },
    ],
    ['none', {}],
  ])('headers: %s', async (mode, expected) => {
    const { stage } = build(configOf(`    rateLimit: { key: ip, limit: 3, window: 1m, headers: ${mode} }`));
    const reply = await stage(exchange(), upstream());
    const rateHeaders = Object.fromEntries(
      Object.entries(reply.headers).filter(([name]) => name.includes('ratelimit')),
    );
    expect(rateHeaders).toEqual(expected);
  });

  it('headers: legacy X-RateLimit-Reset is the UTC epoch second the window ends, on the 429 too', async () => {
    const { stage } = build(configOf('    rateLimit: { key: ip, limit: 1, window: 1m, headers: legacy }'));
    const next = upstream();
    const before = Date.now();
    const passed = await stage(exchange(), next);
    const refused = await stage(exchange(), next);
    const after = Date.now();
    // The window opened with the first request: it ends 60 s after it, rounded up to a second.
    for (const reply of [passed, refused]) {
      const reset = Number(reply.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 60);
      expect(reset).toBeLessThanOrEqual(Math.ceil(after / 1000) + 60);
    }
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    // Retry-After stays a delay in seconds.
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('headers: the rule with the least remaining is reported; draft names it by key kind', async () => {
    const { stage } = build(
      configOf(`    rateLimit:
      - { key: ip, limit: 10, window: 1m, headers: draft }
      - { key: route, limit: 2, window: 10s, headers: draft }`),
    );
    const reply = await stage(exchange(), upstream());
    expect(reply.headers['ratelimit-policy']).toBe('"route";q=2;w=10');
    expect(reply.headers.ratelimit).toBe('"route";r=1;t=10');
  });

  it('shadow: counts, reports and logs once per key and window, never refuses, sends no headers', async () => {
    const { stage, limited, logs } = build(
      configOf('    rateLimit: { key: ip, limit: 2, window: 1m, mode: shadow }'),
    );
    const next = upstream();
    const exchanges = Array.from({ length: 5 }, () => exchange());
    const replies = [];
    for (const ex of exchanges) replies.push(await stage(ex, next));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(next.calls).toBe(5);
    expect(limited).toEqual(Array(3).fill({ route: 'r', tier: '', mode: 'shadow' }));
    expect(exchanges.map((ex) => ex.reason)).toEqual([
      '',
      '',
      'rate_limit_shadow',
      'rate_limit_shadow',
      'rate_limit_shadow',
    ]);
    expect(replies[0]!.headers['ratelimit-limit']).toBeUndefined();
    const lines = logs.filter((l) => String(l.msg).includes('shadow'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      route: 'r',
      rule: 0,
      key: 'ip',
      limit: 2,
      windowSeconds: 60,
    });
  });

  it('shadow beside an enforced rule: the enforced one still refuses', async () => {
    const { stage, limited } = build(
      configOf(`    rateLimit:
      - { key: ip, limit: 1, window: 1m, mode: shadow }
      - { key: ip, limit: 2, window: 1m }`),
    );
    expect(await statuses(stage, 3)).toEqual([200, 200, 429]);
    expect(limited.map((l) => l.mode)).toEqual(['shadow', 'shadow', 'enforce']);
  });

  describe('key: consumer', () => {
    const top = `consumers:
  header: x-api-key
  keys:
    "sha256:${sha256('pro-key')}": pro
    "sha256:${sha256('free-key')}": free
  defaultTier: anon
tiers:
  anon: { limit: 1, window: 1m, upgrade: "https://example.com/pricing" }
  free: { limit: 2, window: 1m }
  pro: { limit: 4, window: 1m }`;
    const consumerConfig = () => configOf('    rateLimit: { key: consumer }', top);

    it("takes the limit from the hashed key's tier", async () => {
      const { stage } = build(consumerConfig());
      expect(await statuses(stage, 5, { headers: { 'x-api-key': 'pro-key' } })).toEqual([
        200, 200, 200, 200, 429,
      ]);
      expect(await statuses(stage, 3, { headers: { 'x-api-key': 'free-key' } })).toEqual([200, 200, 429]);
    });

    it('counts a known key by key, whatever the client address', async () => {
      const { stage } = build(consumerConfig());
      expect(await statuses(stage, 2, { ip: '10.0.0.1', headers: { 'x-api-key': 'free-key' } })).toEqual([
        200, 200,
      ]);
      expect(await statuses(stage, 1, { ip: '10.0.0.2', headers: { 'x-api-key': 'free-key' } })).toEqual([
        429,
      ]);
    });

    it('puts requests without a known key in defaultTier, counted by client IP', async () => {
      const { stage } = build(consumerConfig());
      expect(await statuses(stage, 2, { ip: '10.0.0.1' })).toEqual([200, 429]);
      // An unknown key is no way out: same tier, same IP count.
      expect(await statuses(stage, 1, { ip: '10.0.0.1', headers: { 'x-api-key': 'made-up' } })).toEqual([
        429,
      ]);
      expect(await statuses(stage, 1, { ip: '10.0.0.2', headers: { 'x-api-key': 'made-up' } })).toEqual([
        200,
      ]);
    });

    it('429 body names the tier (and its upgrade hint); the metric carries the tier', async () => {
      const { stage, limited } = build(consumerConfig());
      const next = upstream();
      await stage(exchange(), next);
      const anon = bodyOf(await stage(exchange(), next));
      expect(anon).toMatchObject({
        code: 'RATE_LIMITED',
        tier: 'anon',
        upgrade: 'https://example.com/pricing',
      });
      const free = { headers: { 'x-api-key': 'free-key' } };
      await statuses(stage, 2, free);
      const body = bodyOf(await stage(exchange(free), next));
      expect(body.tier).toBe('free');
      expect('upgrade' in body).toBe(false);
      expect(limited).toEqual([
        { route: 'r', tier: 'anon', mode: 'enforce' },
        { route: 'r', tier: 'free', mode: 'enforce' },
      ]);
    });

    it("headers report the tier's limit", async () => {
      const { stage } = build(consumerConfig());
      const reply = await stage(exchange({ headers: { 'x-api-key': 'pro-key' } }), upstream());
      expect(reply.headers['ratelimit-limit']).toBe('4');
      expect(reply.headers['ratelimit-remaining']).toBe('3');
    });

    const pro = { headers: { 'x-api-key': 'pro-key' } };
    const free = { headers: { 'x-api-key': 'free-key' } };

    it("a rule's own tier table: an hourly allowance per tier beside the per-minute one, each counted on its own", async () => {
      const config = configOf(
        `    rateLimit:
      - { key: consumer }
      - key: consumer
        tiers:
          anon: { limit: 5, window: 1h }
          free: { limit: 1, window: 1h, upgrade: "Hourly cap: upgrade to pro" }
          pro: { limit: 2, window: 1h }`,
        top,
      );
      expect(config.routes[0]!.rateLimit[1]!.tiers).toEqual({
        anon: {
          name: 'anon',
          limit: 5,
          windowMs: 3_600_000,
          burst: 0,
          upgrade: 'https://example.com/pricing',
        },
        free: {
          name: 'free',
          limit: 1,
          windowMs: 3_600_000,
          burst: 0,
          upgrade: 'Hourly cap: upgrade to pro',
        },
        pro: { name: 'pro', limit: 2, windowMs: 3_600_000, burst: 0, upgrade: undefined },
      });
      const { stage, limited } = build(config);
      const next = upstream();
      // pro: 4 a minute, but 2 an hour; the headers tell the tighter (hourly) one.
      const second = await (async () => {
        await stage(exchange(pro), next);
        return stage(exchange(pro), next);
      })();
      expect(second.headers['ratelimit-limit']).toBe('2');
      expect(second.headers['ratelimit-remaining']).toBe('0');
      expect(second.headers['ratelimit-policy']).toBe('2;w=3600');
      const proRefused = await stage(exchange(pro), next);
      expect(proRefused.status).toBe(429);
      expect(Number(proRefused.headers['retry-after'])).toBeGreaterThan(60);
      expect(bodyOf(proRefused)).toMatchObject({ tier: 'pro', retryAfter: expect.any(Number) });
      expect('upgrade' in bodyOf(proRefused)).toBe(false);
      // free: 2 a minute, but 1 an hour, with the table's own upgrade text.
      expect(await statuses(stage, 1, free)).toEqual([200]);
      const freeRefused = await stage(exchange(free), next);
      expect(bodyOf(freeRefused)).toMatchObject({ tier: 'free', upgrade: 'Hourly cap: upgrade to pro' });
      // anon (no key): the per-minute limit of 1 is the tighter one here.
      expect(await statuses(stage, 2)).toEqual([200, 429]);
      expect(next.calls).toBe(2); // the two pro requests that passed; the refusals never went on
      expect(limited.map((l) => l.tier)).toEqual(['pro', 'free', 'anon']);
    });

    it('a tier table entry without upgrade takes the top-level tier’s; its limit replaces the tier’s', async () => {
      const { stage } = build(
        configOf(
          '    rateLimit: { key: consumer, tiers: { anon: { limit: 2, window: 1h }, free: { limit: 1, window: 1h }, pro: { limit: 1, window: 1h } } }',
          top,
        ),
      );
      expect(await statuses(stage, 3)).toEqual([200, 200, 429]);
      expect(bodyOf(await stage(exchange(), upstream()))).toMatchObject({
        tier: 'anon',
        upgrade: 'https://example.com/pricing',
      });
      expect(await statuses(stage, 2, pro)).toEqual([200, 429]);
    });

    it.each([
      ['legacy', 'x-ratelimit-tier'],
      ['standard', 'ratelimit-tier'],
      ['draft', 'ratelimit-tier'],
    ])('headers: %s names the tier in %s, on passing answers and the 429', async (mode, header) => {
      const { stage } = build(configOf(`    rateLimit: { key: consumer, headers: ${mode} }`, top));
      const next = upstream();
      const passed = await stage(exchange(free), next);
      expect(passed.headers[header]).toBe('free');
      await stage(exchange(free), next);
      const refused = await stage(exchange(free), next);
      expect(refused.status).toBe(429);
      expect(refused.headers[header]).toBe('free');
      // Without a known key: the default tier's name.
      expect((await stage(exchange(), next)).headers[header]).toBe('anon');
      const other = header === 'x-ratelimit-tier' ? 'ratelimit-tier' : 'x-ratelimit-tier';
      expect(passed.headers[other]).toBeUndefined();
    });

    it('no tier header with headers: none or in shadow mode; beside a rule of another key, the consumer rule names it', async () => {
      for (const rule of [
        '{ key: consumer, headers: none }',
        '{ key: consumer, mode: shadow, headers: legacy }',
      ]) {
        const reply = await build(configOf(`    rateLimit: ${rule}`, top)).stage(exchange(pro), upstream());
        expect(reply.status).toBe(200);
        expect(Object.keys(reply.headers).filter((h) => h.includes('ratelimit'))).toEqual([]);
      }
      const { stage } = build(
        configOf(
          `    rateLimit:
      - { key: consumer, headers: legacy }
      - { key: ip, limit: 1, window: 1m }`,
          top,
        ),
      );
      const next = upstream();
      // The ip rule has the least remaining, so its fields are shown; the tier is still told.
      const passed = await stage(exchange(pro), next);
      expect(passed.headers['ratelimit-remaining']).toBe('0');
      expect(passed.headers['x-ratelimit-remaining']).toBeUndefined();
      expect(passed.headers['x-ratelimit-tier']).toBe('pro');
      const refused = await stage(exchange(pro), next);
      expect(refused.status).toBe(429);
      expect(refused.headers['x-ratelimit-tier']).toBe('pro');
    });
  });

  describe('across a rebuild (reload)', () => {
    it('keeps the count while the rule is unchanged', async () => {
      const config = configOf('    rateLimit: { key: ip, limit: 2, window: 1m }');
      const first = build(config);
      expect(await statuses(first.stage, 1)).toEqual([200]);
      const second = build(config, first.state);
      second.state.retirePrevious();
      expect(await statuses(second.stage, 2)).toEqual([200, 429]);
    });

    it('starts a fresh count when the rule changes', async () => {
      const first = build(configOf('    rateLimit: { key: ip, limit: 2, window: 1m }'));
      expect(await statuses(first.stage, 2)).toEqual([200, 200]);
      const second = build(configOf('    rateLimit: { key: ip, limit: 3, window: 1m }'), first.state);
      second.state.retirePrevious();
      expect(await statuses(second.stage, 4)).toEqual([200, 200, 200, 429]);
    });
  });
});

describe('shared limits (sharedLimits + shared: <name>)', () => {
  /** Routes `a` and `b`, each with its own `rateLimit` (YAML lines), and the `sharedLimits` block. */
  function twoRoutes(a: string, b: string, shared: string, extra = ''): GatewayConfig {
    return parseConfig(
      `version: 1
server: { listen: 127.0.0.1:0, admin: { listen: 127.0.0.1:0 } }
upstreams: { api: { targets: ["http://127.0.0.1:1"] } }
routes:
  - name: a
    match: { pathPrefix: /a }
    upstream: api
    rateLimit:
${a}
  - name: b
    match: { pathPrefix: /b }
    upstream: api
    rateLimit:
${b}
sharedLimits:
${shared}
${extra}
`,
      'test.yaml',
      {},
    );
  }

  /** Both routes' stages, built into one state store as the gateway builds a config. */
  function buildBoth(config: GatewayConfig, previous?: StateStore) {
    const state = new StateStore(previous);
    stores.push(state);
    const deps = { events: NO_EVENTS, state, shared: undefined, clustered: false } as unknown as StageDeps;
    const factory = rateLimitFactory(config.consumers, config.tiers);
    const stageOf = (i: number) => {
      const route = config.routes[i]!;
      const slice = factory.select(route, config.upstreams.api!, config.server)!;
      return factory.create(slice, deps, { route: route.name, upstream: 'api' })!;
    };
    return { a: stageOf(0), b: stageOf(1), state };
  }

  const global = '  global: { key: ip, limit: 3, window: 1m }';

  it('requests to one route spend the other route’s allowance, per key', async () => {
    const config = twoRoutes(
      '      - { shared: global }',
      '      - { key: ip, limit: 10, window: 1m }\n      - { shared: global }',
      global,
    );
    expect(config.routes.map((r) => r.rateLimit[r.rateLimit.length - 1])).toEqual([
      expect.objectContaining({ shared: 'global', limit: 3, windowMs: 60_000, key: { kind: 'ip' } }),
      expect.objectContaining({ shared: 'global', limit: 3, windowMs: 60_000, key: { kind: 'ip' } }),
    ]);
    const { a, b } = buildBoth(config);
    expect(await statuses(a, 2)).toEqual([200, 200]);
    // Route b's own limit has 10 left, but the shared one only 1.
    expect(await statuses(b, 2)).toEqual([200, 429]);
    expect(await statuses(a, 1)).toEqual([429]);
    // Another client address has its own shared count.
    expect(await statuses(b, 3, { ip: '10.0.0.2' })).toEqual([200, 200, 200]);
    expect(await statuses(a, 1, { ip: '10.0.0.2' })).toEqual([429]);
  });

  it('headers and the 429 as for any rule; draft names the policy after the shared limit', async () => {
    const { a, b } = buildBoth(
      twoRoutes(
        '      - { shared: global, headers: draft }',
        '      - { shared: global }',
        '  global: { key: ip, limit: 2, window: 1m, headers: legacy }',
      ),
    );
    const next = upstream();
    const first = await a(exchange(), next);
    expect(first.headers['ratelimit-policy']).toBe('"global";q=2;w=60');
    expect(first.headers.ratelimit).toBe('"global";r=1;t=60');
    // Route b takes the definition's headers (legacy) and sees what route a spent.
    const second = await b(exchange(), next);
    expect(second.headers['x-ratelimit-limit']).toBe('2');
    expect(second.headers['x-ratelimit-remaining']).toBe('0');
    const refused = await b(exchange(), next);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(bodyOf(refused)).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: Number(refused.headers['retry-after']),
    });
    expect(next.calls).toBe(2);
  });

  it('methods may differ per route: a route may count only its writes into the shared limit', async () => {
    const { a, b } = buildBoth(
      twoRoutes(
        '      - { shared: writes, methods: [POST] }',
        '      - { shared: writes }',
        '  writes: { key: ip, limit: 3, window: 1m }',
      ),
    );
    // GETs on route a are not counted; on route b every method is.
    expect(await statuses(a, 5, { method: 'GET' })).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(b, 1, { method: 'GET' })).toEqual([200]);
    expect(await statuses(a, 2, { method: 'POST' })).toEqual([200, 200]);
    expect(await statuses(b, 1, { method: 'DELETE' })).toEqual([429]);
    expect(await statuses(a, 1, { method: 'GET' })).toEqual([200]);
  });

  it('key: consumer shares one count per API key and tier', async () => {
    const { a, b } = buildBoth(
      twoRoutes(
        '      - { shared: api }',
        '      - { shared: api }',
        '  api: { key: consumer }',
        `consumers:
  keys: { "sha256:${sha256('pro-key')}": pro }
  defaultTier: anon
tiers:
  anon: { limit: 1, window: 1m }
  pro: { limit: 3, window: 1m }`,
      ),
    );
    const pro = { headers: { 'x-api-key': 'pro-key' } };
    expect(await statuses(a, 2, pro)).toEqual([200, 200]);
    expect(await statuses(b, 2, pro)).toEqual([200, 429]);
    expect(await statuses(b, 1)).toEqual([200]);
    const refused = await a(exchange(), upstream());
    expect(bodyOf(refused)).toMatchObject({ tier: 'anon' });
  });

  it('a shared consumer limit with its own tier table: one hourly count per key across routes', async () => {
    const config = twoRoutes(
      '      - { shared: api }\n      - { shared: hourly }',
      '      - { shared: hourly, headers: legacy }',
      `  api: { key: consumer }
  hourly: { key: consumer, tiers: { anon: { limit: 1, window: 1h }, pro: { limit: 3, window: 1h } } }`,
      `consumers:
  keys: { "sha256:${sha256('pro-key')}": pro }
  defaultTier: anon
tiers:
  anon: { limit: 1, window: 1m, upgrade: "https://example.com/pricing" }
  pro: { limit: 10, window: 1m }`,
    );
    expect(config.routes[1]!.rateLimit[0]).toMatchObject({
      shared: 'hourly',
      headers: 'legacy',
      tiers: { pro: { limit: 3, windowMs: 3_600_000 } },
    });
    const { a, b } = buildBoth(config);
    const pro = { headers: { 'x-api-key': 'pro-key' } };
    expect(await statuses(a, 2, pro)).toEqual([200, 200]);
    const last = await b(exchange(pro), upstream());
    expect(last.headers['x-ratelimit-limit']).toBe('3');
    expect(last.headers['x-ratelimit-remaining']).toBe('0');
    expect(last.headers['x-ratelimit-tier']).toBe('pro');
    expect(await statuses(a, 1, pro)).toEqual([429]);
    // No key: the default tier's hourly 1, per client address.
    expect((await b(exchange(), upstream())).status).toBe(200);
    expect(bodyOf(await b(exchange(), upstream()))).toMatchObject({
      tier: 'anon',
      upgrade: 'https://example.com/pricing',
    });
  });

  it('a route’s own rule with the same settings still counts on its own', async () => {
    const { a, b } = buildBoth(
      twoRoutes('      - { shared: global }', '      - { key: ip, limit: 3, window: 1m }', global),
    );
    expect(await statuses(a, 3)).toEqual([200, 200, 200]);
    expect(await statuses(b, 3)).toEqual([200, 200, 200]);
  });

  it('keeps the shared count across a rebuild; a changed definition starts afresh', async () => {
    const same = () => twoRoutes('      - { shared: global }', '      - { shared: global }', global);
    const first = buildBoth(same());
    expect(await statuses(first.a, 2)).toEqual([200, 200]);
    const second = buildBoth(same(), first.state);
    second.state.retirePrevious();
    expect(await statuses(second.b, 2)).toEqual([200, 429]);
    const third = buildBoth(
      twoRoutes(
        '      - { shared: global }',
        '      - { shared: global }',
        '  global: { key: ip, limit: 4, window: 1m }',
      ),
      second.state,
    );
    third.state.retirePrevious();
    expect(await statuses(third.b, 5)).toEqual([200, 200, 200, 200, 429]);
  });

  it('a shadow overage logs the shared name', async () => {
    const logs: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const config = twoRoutes(
      '      - { shared: global, mode: shadow }',
      '      - { shared: global }',
      '  global: { key: ip, limit: 1, window: 1m }',
    );
    const state = new StateStore();
    stores.push(state);
    const deps = { events: NO_EVENTS, state, shared: undefined, clustered: false } as unknown as StageDeps;
    const factory = rateLimitFactory(undefined, {}, createLogger({ stream }).logger);
    const stage = factory.create(config.routes[0]!.rateLimit, deps, { route: 'a', upstream: 'api' })!;
    expect(await statuses(stage, 2)).toEqual([200, 200]);
    expect(logs.find((l) => String(l.msg).includes('shadow'))).toMatchObject({
      route: 'a',
      shared: 'global',
    });
  });
});

describe('rate-limit config checks', () => {
  const invalid = (routeExtra: string, top = '') => {
    try {
      configOf(routeExtra, top);
    } catch (err) {
      return (err as Error).message;
    }
    return 'valid';
  };

  it.each([
    [
      '    rateLimit: { key: ip, limit: 5, window: 500ms }',
      'rateLimit.window: expected a whole number of seconds',
    ],
    ['    rateLimit: { key: ip, limit: 5, window: 1500ms }', 'expected a whole number of seconds'],
    ['    rateLimit: { key: ip, window: 1m }', 'expected a `limit`'],
    ['    rateLimit: { key: consumer }', 'key: consumer needs a top-level `consumers` block'],
    ['    slowDown: { key: consumer, after: 1 }', 'slowDown counts by ip, route or header'],
    ['    slowDown: { after: 1, window: 100ms }', 'slowDown.window: expected a whole number of seconds'],
  ])('%s → %s', (extra, message) => {
    expect(invalid(extra)).toContain(message);
  });

  it('a consumer rule cannot set its own limit or window (the tier does)', () => {
    const top = 'consumers: { defaultTier: free }\ntiers: { free: { limit: 1, window: 1m } }';
    const message = invalid('    rateLimit: { key: consumer, limit: 5, window: 1m }', top);
    expect(message).toContain("rateLimit.limit: key: consumer takes limit from the consumer's tier");
    expect(message).toContain("rateLimit.window: key: consumer takes window from the consumer's tier");
  });

  describe('shared limits', () => {
    const shared = `sharedLimits:
  global: { key: ip, limit: 1000, window: 15m }
  writes: { key: ip, limit: 100, window: 15m }`;

    it('an unknown name is an error at the rule, with a did-you-mean and the names defined', () => {
      expect(invalid('    rateLimit: { shared: glibal }', shared)).toContain(
        'test.yaml:8:26: routes[0].rateLimit.shared: unknown shared limit "glibal"; did you mean "global"? (sharedLimits: global, writes)',
      );
      expect(invalid('    rateLimit: { shared: global }')).toContain(
        'unknown shared limit "global" (sharedLimits: none)',
      );
    });

    it('a rule naming a shared limit may not set key, limit, window or burst', () => {
      const message = invalid('    rateLimit: { shared: global, key: ip, limit: 5, window: 1m }', shared);
      for (const field of ['key', 'limit', 'window'])
        expect(message).toContain(
          `routes[0].rateLimit.${field}: a rule with shared: global takes ${field} from sharedLimits.global; set it there`,
        );
      // methods, mode and headers are the route's to choose.
      expect(
        invalid('    rateLimit: { shared: global, methods: [POST], mode: shadow, headers: legacy }', shared),
      ).toBe('valid');
    });

    it('one route naming a shared limit twice is an error naming both rules and their lines', () => {
      const message = invalid(
        `    rateLimit:
      - { shared: writes, methods: [POST] }
      - { shared: global }
      - { shared: writes, methods: [PUT] }`,
        shared,
      );
      expect(message).toContain(
        'test.yaml:11:19: routes[0].rateLimit[2].shared: shared limit "writes" is already named by rateLimit[0] on line 9; a request would count twice into it',
      );
    });

    it('a rule needs a key or a shared name; a definition is checked like a rule', () => {
      expect(invalid('    rateLimit: { limit: 5, window: 1m }')).toContain(
        'routes[0].rateLimit: expected a `key` (ip, route, header:<name> or consumer) or `shared: <name>`',
      );
      const message = invalid(
        '    rateLimit: { shared: a }',
        `sharedLimits:
  a: { key: ip, window: 1500ms }
  b: { limit: 1, window: 1m }
  c: { key: consumer, limit: 1 }
  d: { shared: a, key: ip, limit: 1, window: 1m }`,
      );
      expect(message).toContain('sharedLimits.a: expected a `limit` (requests per window)');
      expect(message).toContain('sharedLimits.a.window: expected a whole number of seconds');
      expect(message).toContain('sharedLimits.b: missing required key "key"');
      expect(message).toContain('sharedLimits.c.key: key: consumer needs a top-level `consumers` block');
      expect(message).toContain('sharedLimits.d.shared: unknown key "shared"');
    });
  });

  describe("a limit's own tier table", () => {
    const top = `consumers: { defaultTier: free }
tiers:
  free: { limit: 20, window: 1m }
  pro: { limit: 100, window: 1m }
  enterprise: { limit: 500, window: 1m }`;

    it('names only known tiers (did-you-mean) and every one of them, at file:line:col', () => {
      const message = invalid(
        `    rateLimit:
      - { key: consumer }
      - key: consumer
        tiers:
          free: { limit: 10, window: 1h }
          prp: { limit: 100, window: 1h }`,
        top,
      );
      expect(message).toContain(
        'test.yaml:13:11: routes[0].rateLimit[1].tiers.prp: unknown tier "prp"; did you mean "pro"? (tiers: free, pro, enterprise)',
      );
      expect(message).toContain(
        'test.yaml:11:9: routes[0].rateLimit[1].tiers: this tier table leaves out "pro", "enterprise"; list every tier (free, pro, enterprise), so no consumer goes without this limit',
      );
    });

    it('is checked in sharedLimits too: whole-second windows, a limit and window per tier', () => {
      const message = invalid(
        '    rateLimit: { shared: hourly }',
        `${top}
sharedLimits:
  hourly:
    key: consumer
    tiers:
      free: { limit: 10, window: 1500ms }
      pro: { window: 1h }
      enterprise: { limit: 1000 }`,
      );
      expect(message).toContain('sharedLimits.hourly.tiers.free.window: expected a whole number of seconds');
      expect(message).toContain('sharedLimits.hourly.tiers.pro: missing required key "limit"');
      expect(message).toContain('sharedLimits.hourly.tiers.enterprise: missing required key "window"');
    });

    it('only on key: consumer, and not on a rule naming a shared limit', () => {
      const table =
        '{ free: { limit: 1, window: 1h }, pro: { limit: 1, window: 1h }, enterprise: { limit: 1, window: 1h } }';
      expect(invalid(`    rateLimit: { key: ip, limit: 5, window: 1m, tiers: ${table} }`, top)).toContain(
        'test.yaml:8:49: routes[0].rateLimit.tiers: only a key: consumer limit takes a tier table; this one counts by ip (set limit and window instead)',
      );
      expect(
        invalid(
          `    rateLimit: { shared: api, tiers: ${table} }`,
          `${top}\nsharedLimits: { api: { key: consumer } }`,
        ),
      ).toContain(
        'routes[0].rateLimit.tiers: a rule with shared: api takes tiers from sharedLimits.api; set it there',
      );
      expect(invalid(`    rateLimit: { key: consumer, tiers: ${table} }`, top)).toBe('valid');
    });
  });

  it('tiers need whole-second windows and consumers known tiers', () => {
    const top = 'consumers: { defaultTier: fre }\ntiers: { free: { limit: 1, window: 2.5s } }';
    const message = invalid('    rateLimit: { key: consumer }', top);
    expect(message).toContain('tiers.free.window: expected a whole number of seconds');
    expect(message).toContain('unknown tier "fre"; did you mean "free"?');
  });
});

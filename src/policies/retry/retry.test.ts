/**
 * The retry stage's decisions, driven through its Stage contract with a scripted `next` (pure
 * logic: no sockets; the wire behaviour is in test/integration/retry.test.ts).
 */
import { PassThrough } from 'node:stream';
import type { RetryConfig, RouteConfig } from '../../config/types';
import {
  CircuitOpenError,
  NoHealthyUpstreamError,
  OverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../errors';
import { NO_EVENTS, type GatewayEvents } from '../../observability/events';
import { createStage } from '../../pipeline/build';
import type { StageDeps } from '../../pipeline/stage';
import type { Exchange } from '../../pipeline/exchange';
import type { Reply } from '../../pipeline/stage';
import { StateStore } from '../../pipeline/state-store';
import type { Upstream } from '../../upstream/upstream';
import { retry } from './index';

const BASE: RetryConfig = {
  attempts: 3,
  perTryTimeoutMs: undefined,
  on: ['connect-failure', 'reset', 'timeout', 502, 503, 504],
  methods: ['GET', 'PUT'],
  idempotencyKey: false,
  maxBufferBytes: 1024,
  backoff: { baseMs: 1, maxMs: 2, maxRetryAfterMs: 50 },
  budget: { ratio: 0.2, minPerSecond: 100 },
};

const oneTarget = { name: 'u', targets: [{}], config: { targets: [{}] } } as unknown as Upstream;
const twoTargets = { name: 'u', targets: [{}, {}], config: { targets: [{}, {}] } } as unknown as Upstream;

function build(
  retryConfig: Partial<RetryConfig> | undefined,
  upstream = oneTarget,
  state = new StateStore(),
) {
  const retries: string[] = [];
  const events: GatewayEvents = { ...NO_EVENTS, retry: (_route, reason) => void retries.push(reason) };
  const route = {
    name: 'r',
    retry: retryConfig && { ...BASE, ...retryConfig },
  } as unknown as RouteConfig;
  const deps = { events, state, upstreams: new Map() } as unknown as StageDeps;
  return { stage: createStage(retry, route, upstream, deps), retries };
}

function exchange(method = 'GET', headers: Record<string, string> = {}, deadlineInMs = 5000): Exchange {
  return {
    req: { method, headers },
    hasBody: false,
    body: undefined,
    attempt: 1,
    tryDeadlineAt: Infinity,
    deadlineAt: performance.now() + deadlineInMs,
    clientGone: false,
    reason: '',
  } as unknown as Exchange;
}

type Outcome = number | Error | { status: number; headers: Record<string, string> };

/** A `next` that plays `outcomes` in order and records what each attempt saw. */
function script(...outcomes: Outcome[]) {
  const seen: { attempt: number; tryDeadlineAt: number; at: number }[] = [];
  const discarded: number[] = [];
  const next = (ex: Exchange): Promise<Reply> => {
    seen.push({ attempt: ex.attempt, tryDeadlineAt: ex.tryDeadlineAt, at: performance.now() });
    const outcome = outcomes[Math.min(seen.length, outcomes.length) - 1]!;
    if (outcome instanceof Error) return Promise.reject(outcome);
    const { status, headers } = typeof outcome === 'number' ? { status: outcome, headers: {} } : outcome;
    const attempt = seen.length;
    return Promise.resolve({
      status,
      headers,
      source: 'upstream',
      body: { sendTo: () => undefined, discard: () => void discarded.push(attempt) },
    });
  };
  return { next, seen, discarded };
}

const connectError = () => new UpstreamUnavailableError('connect_error');
const resetError = () => new UpstreamUnavailableError('reset', { requestSent: true });

describe('retry stage', () => {
  it('is absent without a retry block on a one-target upstream, and with attempts: 1', () => {
    expect(build(undefined).stage).toBeUndefined();
    expect(build({ attempts: 1 }).stage).toBeUndefined();
    expect(build(undefined, twoTargets).stage).toBeDefined();
  });

  it('returns the first good reply untouched, with attempt 1', async () => {
    const { stage, retries } = build({});
    const { next, seen } = script(200);
    const ex = exchange();
    expect((await stage!(ex, next)).status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(ex.attempt).toBe(1);
    expect(retries).toEqual([]);
  });

  it.each<[string, Outcome[], string[], number]>([
    ['503 then 200', [503, 200], ['status_503'], 200],
    ['connect error then 200', [connectError(), 200], ['connect_failure'], 200],
    ['reset then 200', [resetError(), 200], ['reset'], 200],
    ['per-try timeout then 200', [new UpstreamTimeoutError(10, { perTry: true }), 200], ['timeout'], 200],
    ['502, 504, 503', [502, 504, 503], ['status_502', 'status_504'], 503],
  ])('retries %s', async (_name, outcomes, reasons, status) => {
    const { stage, retries } = build({});
    const { next, seen, discarded } = script(...outcomes);
    const ex = exchange();
    expect((await stage!(ex, next)).status).toBe(status);
    expect(retries).toEqual(reasons);
    expect(seen.map((s) => s.attempt)).toEqual(outcomes.map((_, i) => i + 1));
    expect(ex.attempt).toBe(outcomes.length);
    // Every bad reply that was retried was discarded; the one returned was not.
    const badReplies = outcomes.slice(0, -1).flatMap((o, i) => (typeof o === 'number' ? [i + 1] : []));
    expect(discarded).toEqual(badReplies);
  });

  it('marks retries_exhausted and returns the last bad reply', async () => {
    const { stage } = build({});
    const ex = exchange();
    expect((await stage!(ex, script(503).next)).status).toBe(503);
    expect(ex.attempt).toBe(3);
    expect(ex.reason).toBe('retries_exhausted');
  });

  it.each([
    ['CircuitOpenError', new CircuitOpenError(5)],
    ['NoHealthyUpstreamError', new NoHealthyUpstreamError()],
    ['OverloadedError', new OverloadedError()],
    ['a route-deadline timeout', new UpstreamTimeoutError(10, { perTry: false })],
  ])('stops at once on %s', async (_name, error) => {
    const { stage, retries } = build({});
    const { next, seen } = script(503, error, 200);
    await expect(stage!(exchange(), next)).rejects.toBe(error);
    expect(seen).toHaveLength(2);
    expect(retries).toEqual(['status_503']);
  });

  it('does not retry what `on` leaves out', async () => {
    const { stage } = build({ on: [503] });
    const error = resetError();
    const { next, seen } = script(error, 200);
    await expect(stage!(exchange(), next)).rejects.toBe(error);
    expect(seen).toHaveLength(1);
  });

  it.each<[string, Record<string, string>, Partial<RetryConfig>, number]>([
    ['POST', {}, {}, 1],
    ['POST', { 'idempotency-key': 'k1' }, {}, 1],
    ['POST', { 'idempotency-key': 'k1' }, { idempotencyKey: true }, 2],
    ['PATCH', { 'idempotency-key': 'k1' }, { idempotencyKey: true }, 2],
    ['DELETE', {}, {}, 1],
    ['PUT', {}, {}, 2],
  ])('%s %j with %j: %i attempts after a 503', async (method, headers, config, attempts) => {
    const { stage } = build(config);
    const { next, seen } = script(503, 200);
    await stage!(exchange(method, headers), next);
    expect(seen).toHaveLength(attempts);
  });

  it('retries a connect failure for any method (nothing reached the upstream), but not a reset', async () => {
    const { stage } = build({});
    expect((await stage!(exchange('POST'), script(connectError(), 200).next)).status).toBe(200);
    const reset = resetError();
    await expect(stage!(exchange('POST'), script(reset, 200).next)).rejects.toBe(reset);
  });

  it('sets a per-try deadline on every attempt', async () => {
    const { stage } = build({ perTryTimeoutMs: 100 });
    const { next, seen } = script(503, 200);
    await stage!(exchange(), next);
    for (const s of seen) {
      expect(s.tryDeadlineAt).toBeGreaterThan(s.at + 90);
      expect(s.tryDeadlineAt).toBeLessThanOrEqual(s.at + 100);
    }
  });

  it('starts no attempt or sleep past the route deadline', async () => {
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.9);
    try {
      const { stage } = build({ attempts: 5, backoff: { baseMs: 1000, maxMs: 1000, maxRetryAfterMs: 0 } });
      const { next, seen } = script(503);
      const ex = exchange('GET', {}, 500);
      const started = performance.now();
      expect((await stage!(ex, next)).status).toBe(503);
      expect(seen).toHaveLength(1);
      expect(performance.now() - started).toBeLessThan(100);
      expect(ex.reason).toBe('');
    } finally {
      spy.mockRestore();
    }
  });

  it('waits a short Retry-After and refuses to wait a long one', async () => {
    const { stage } = build({});
    const short = script({ status: 503, headers: { 'retry-after': '0' } }, 200);
    expect((await stage!(exchange(), short.next)).status).toBe(200);
    const long = script({ status: 503, headers: { 'retry-after': '1' } }, 200);
    expect((await stage!(exchange(), long.next)).status).toBe(503);
    expect(long.seen).toHaveLength(1);
    expect(long.discarded).toEqual([]);
  });

  it('stops when the budget refuses, and says so', async () => {
    const { stage, retries } = build({ budget: { ratio: 0, minPerSecond: 1 } });
    const ex = exchange();
    expect((await stage!(ex, script(503).next)).status).toBe(503);
    expect(ex.attempt).toBe(2);
    expect(retries).toEqual(['status_503', 'budget_exhausted']);
    expect(ex.reason).toBe('budget_exhausted');
  });

  it('keeps the budget across rebuilds with the same settings, not across a change', () => {
    const state = new StateStore();
    build({}, oneTarget, state);
    const same = state.keep('retry-budget:r:{"ratio":0.2,"minPerSecond":100}', () => ({ fresh: true }));
    expect(same).not.toEqual({ fresh: true });
    const next = new StateStore(state);
    build({ budget: { ratio: 0.5, minPerSecond: 1 } }, oneTarget, next);
    expect(next.keep('retry-budget:r:{"ratio":0.2,"minPerSecond":100}', () => ({ fresh: true }))).toBe(same);
  });

  it('throws ClientGoneError instead of retrying for a client that left during the backoff', async () => {
    // A fixed draw: the sleep is ~40 ms, and the client leaves 5 ms into it.
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.99);
    try {
      const { stage, retries } = build({ backoff: { baseMs: 40, maxMs: 40, maxRetryAfterMs: 0 } });
      const ex = exchange();
      const { next, seen } = script(503, 200);
      const pending = stage!(ex, next);
      setTimeout(() => (ex.clientGone = true), 5);
      await expect(pending).rejects.toMatchObject({ status: 499 });
      expect(seen).toHaveLength(1);
      expect(retries).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('request bodies', () => {
  function bodyExchange(method: string, bytes: Buffer, headers: Record<string, string>): Exchange {
    const req = Object.assign(new PassThrough(), { method, headers });
    req.end(bytes);
    return { ...exchange(method), req, hasBody: true } as unknown as Exchange;
  }

  it('buffers a small body before the first attempt and replays it', async () => {
    const { stage } = build({});
    const payload = Buffer.from('x'.repeat(100));
    const ex = bodyExchange('PUT', payload, { 'content-length': '100' });
    const bodies: (Buffer | undefined)[] = [];
    const { next } = script(503, 200);
    await stage!(ex, (e) => (bodies.push(e.body), next(e)));
    expect(bodies).toHaveLength(2);
    expect(bodies[0]!.equals(payload)).toBe(true);
    expect(bodies[1]).toBe(bodies[0]);
  });

  it.each([
    ['over maxBufferSize', { 'content-length': '2048' }, 2048],
    ['chunked', { 'transfer-encoding': 'chunked' }, 10],
  ])('streams a body %s and never retries it, not even a connect failure', async (_name, headers, size) => {
    const { stage } = build({});
    const ex = bodyExchange('PUT', Buffer.alloc(size), headers);
    const error = connectError();
    const { next, seen } = script(error, 200);
    await expect(stage!(ex, next)).rejects.toBe(error);
    expect(seen).toHaveLength(1);
    expect(ex.body).toBeUndefined();
  });

  it('fails over a small POST body on a connect failure without a retry block', async () => {
    const { stage, retries } = build(undefined, twoTargets);
    const ex = bodyExchange('POST', Buffer.from('hello'), { 'content-length': '5' });
    const { next, seen } = script(connectError(), 200);
    expect((await stage!(ex, next)).status).toBe(200);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(retries).toEqual(['connect_failure']);
    expect(ex.body?.toString()).toBe('hello');
  });

  it('never fails over a sent request or a 503 without a retry block', async () => {
    const { stage } = build(undefined, twoTargets);
    const reset = resetError();
    await expect(stage!(exchange('GET'), script(reset, 200).next)).rejects.toBe(reset);
    expect((await stage!(exchange('GET'), script(503, 200).next)).status).toBe(503);
  });
});

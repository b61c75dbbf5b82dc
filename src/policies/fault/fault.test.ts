import { Writable } from 'node:stream';
import { NO_EVENTS, type GatewayEvents } from '../../observability/events';
import type { Exchange } from '../../pipeline/exchange';
import type { Next, Reply, Stage, StageDeps } from '../../pipeline/stage';
import { EMPTY_BODY } from '../../pipeline/static-body';
import { normalizeFault, type FaultConfig } from './config';
import { fault } from './index';

function stageFor(config: FaultConfig, injected: string[]): Stage {
  const events: GatewayEvents = {
    ...NO_EVENTS,
    faultInjected: (route, kind) => void injected.push(`${route}:${kind}`),
  };
  return fault.create(config, { events } as StageDeps, { route: 'r', upstream: 'u' })!;
}

/** The few Exchange fields the stage reads, as a plain object (no HTTP involved). */
function exchange(timeoutMs = 30_000): Exchange {
  return {
    req: { complete: true },
    reqId: 'req-1',
    reason: '',
    hasBody: false,
    clientGone: false,
    deadlineAt: performance.now() + timeoutMs,
  } as unknown as Exchange;
}

const upstream: Next = () =>
  Promise.resolve<Reply>({ status: 200, headers: {}, body: EMPTY_BODY, source: 'upstream' });

describe('fault', () => {
  it('aborts every request at percent 100, like an upstream error answer', async () => {
    const injected: string[] = [];
    const stage = stageFor(normalizeFault({ abort: { status: 503, percent: 100 } })!, injected);
    const ex = exchange();
    const reply = await stage(ex, upstream);
    expect(reply.status).toBe(503);
    expect(reply.source).toBe('upstream');
    expect(reply.headers).toMatchObject({
      'cache-control': 'no-store',
      'retry-after': '1',
      'x-request-id': 'req-1',
    });
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    await new Promise((resolve) => reply.body.sendTo(sink, resolve));
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
      error: { code: 'FAULT_INJECTED', message: expect.any(String), requestId: 'req-1' },
    });
    expect(ex.reason).toBe('fault_abort');
    expect(injected).toEqual(['r:abort']);
  });

  it('never fires at percent 0 (the stage is left out) and passes through otherwise', async () => {
    expect(
      normalizeFault({ abort: { status: 503, percent: 0 }, delay: { duration: '1s', percent: 0 } }),
    ).toBeUndefined();
    const injected: string[] = [];
    const stage = stageFor({ delay: undefined, abort: { status: 500, percent: 0.0001 } }, injected);
    let aborted = 0;
    for (let i = 0; i < 200; i++) if ((await stage(exchange(), upstream)).status === 500) aborted++;
    expect(aborted).toBeLessThan(3);
  });

  it('delays, but never past the route deadline', async () => {
    const injected: string[] = [];
    const stage = stageFor({ delay: { ms: 1000, percent: 100 }, abort: undefined }, injected);
    const started = performance.now();
    const reply = await stage(exchange(60), upstream);
    const took = performance.now() - started;
    expect(reply.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(50);
    expect(took).toBeLessThan(500);
    expect(injected).toEqual(['r:delay']);
  });

  it('inherits a server default unless the route says false', () => {
    const server = { abort: { status: 502, percent: 5 } };
    expect(normalizeFault(undefined, server)).toEqual({
      delay: undefined,
      abort: { status: 502, percent: 5 },
    });
    expect(normalizeFault(false, server)).toBeUndefined();
    expect(normalizeFault({ delay: { duration: '200ms', percent: 10 } }, server)).toEqual({
      delay: { ms: 200, percent: 10 },
      abort: undefined,
    });
  });
});

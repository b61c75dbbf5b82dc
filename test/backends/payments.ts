/**
 * Stand-in for the payments API (Express + Prisma in production) with its hand-built hardening
 * deleted: no rate limiter, no express-slow-down, no circuit breaker, no DB reconnect loop, no
 * error counter, no dashboard. What is left is the app itself: its routes, its dependency check
 * (`/health/detailed`), and the ways it fails, which a test switches on:
 * - `db.down = true`: the database is unreachable; every query throws Prisma's P1001 and the
 *   app's error handler answers 503, and `/health/detailed` says `degraded` with a 503;
 * - `db.failNextQueries = n`: the next n API queries fail the same way (a connection blip while
 *   the app reconnects); health probes do not spend them;
 * - `switches.createError = true`: `POST /api/payments` hits a bug and answers 500 with the
 *   Prisma error's text (the "similar error" an error counter groups);
 * - `switches.delayMs`: every API answer waits this long first.
 * Blue and green are two instances of the same app on one shared database (`createPaymentsDb`);
 * every answer says which one served it (`x-app-color` and `color` in JSON bodies).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from './serve';

/** The shared database both colours talk to. */
export interface PaymentsDb {
  down: boolean;
  failNextQueries: number;
  /** Payments stored so far, by id. */
  readonly payments: Map<string, Payment>;
}

export interface Payment {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: 'succeeded';
}

export interface PaymentsSwitches {
  createError: boolean;
  delayMs: number;
}

export interface SeenPaymentsRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

export interface PaymentsBackend {
  readonly url: string;
  readonly color: string;
  readonly db: PaymentsDb;
  readonly switches: PaymentsSwitches;
  /** Every request that reached this instance, health probes included. */
  readonly seen: SeenPaymentsRequest[];
  /** Requests to /api/* only. */
  apiHits(): number;
  close(): Promise<void>;
}

export function createPaymentsDb(): PaymentsDb {
  return { down: false, failNextQueries: 0, payments: new Map() };
}

/** What Prisma throws when the database cannot be reached. */
class DbUnreachableError extends Error {
  readonly code = 'P1001';
  constructor() {
    super("Can't reach database server at `payments-db:5432`");
  }
}

/** One query against the shared database; throws like Prisma when it is down. */
function query<T>(db: PaymentsDb, run: () => T): T {
  if (db.down) throw new DbUnreachableError();
  if (db.failNextQueries > 0) {
    db.failNextQueries--;
    throw new DbUnreachableError();
  }
  return run();
}

export async function startPaymentsBackend(
  options: { color?: string; db?: PaymentsDb } = {},
): Promise<PaymentsBackend> {
  const color = options.color ?? 'blue';
  const db = options.db ?? createPaymentsDb();
  const switches: PaymentsSwitches = { createError: false, delayMs: 0 };
  const seen: SeenPaymentsRequest[] = [];
  const { url, close } = await serve((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const answer = () => handle({ req, res, body, db, switches, color });
      if (switches.delayMs > 0 && req.url!.startsWith('/api/')) setTimeout(answer, switches.delayMs);
      else answer();
    });
  });
  return {
    url,
    color,
    db,
    switches,
    seen,
    apiHits: () => seen.filter((r) => r.url.startsWith('/api/')).length,
    close,
  };
}

interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: string;
  readonly db: PaymentsDb;
  readonly switches: PaymentsSwitches;
  readonly color: string;
}

function handle(call: Call): void {
  const { req, db, color } = call;
  const path = new URL(req.url!, 'http://payments').pathname;
  try {
    if (req.method === 'GET' && path === '/health') return send(call, 200, { status: 'ok', color });
    if (req.method === 'GET' && path === '/health/detailed') return healthDetailed(call);
    if (req.method === 'GET' && path === '/api/payments')
      return send(call, 200, { color, payments: query(db, () => [...db.payments.values()].slice(-20)) });
    if (req.method === 'POST' && path === '/api/payments') return createPayment(call);
    const one = /^\/api\/payments\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      const payment = query(db, () => db.payments.get(one[1]!));
      return payment
        ? send(call, 200, { color, payment })
        : send(call, 404, { error: 'Payment not found', color });
    }
    send(call, 404, { error: 'Not found', color });
  } catch (err) {
    // The app's error handler, as it was before the hardening: a DB it cannot reach is a 503,
    // anything else a 500 carrying the error's message.
    if (err instanceof DbUnreachableError)
      return send(call, 503, { error: 'Database unavailable', code: err.code, color });
    send(call, 500, { error: (err as Error).message, color });
  }
}

/** Per-dependency status; 503 when any dependency is down. */
function healthDetailed(call: Call): void {
  const database = call.db.down ? 'down' : 'up';
  const degraded = database === 'down';
  send(call, degraded ? 503 : 200, {
    status: degraded ? 'degraded' : 'ok',
    color: call.color,
    dependencies: { database: { status: database }, processor: { status: 'up' } },
  });
}

function createPayment(call: Call): void {
  const { db, switches, color } = call;
  if (switches.createError) {
    // A bug the error counter used to catch: the same Prisma error on every such request.
    throw new Error(
      'PrismaClientKnownRequestError: Unique constraint failed on the fields: (`idempotency_key`)',
    );
  }
  let input: { amount?: unknown; currency?: unknown };
  try {
    input = JSON.parse(call.body || '{}') as typeof input;
  } catch {
    return send(call, 400, { error: 'Invalid JSON', color });
  }
  if (typeof input.amount !== 'number' || typeof input.currency !== 'string')
    return send(call, 400, { error: 'amount and currency are required', color });
  const payment: Payment = {
    id: `pay_${db.payments.size + 1}`,
    amount: input.amount,
    currency: input.currency,
    status: 'succeeded',
  };
  query(db, () => db.payments.set(payment.id, payment));
  send(call, 201, { color, payment });
}

function send({ res, color }: Call, status: number, json: unknown): void {
  const text = JSON.stringify(json);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-app-color': color,
    'x-powered-by': 'Express',
  });
  res.end(text);
}

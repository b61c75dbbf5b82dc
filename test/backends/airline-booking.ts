/**
 * Stand-in for the airline booking API (Express + Sequelize in production) with its hand-built
 * hardening deleted: no rate limiters, no request-id middleware, no error sanitiser, no Helmet,
 * no CORS middleware. What is left is the app: flight search, bookings, login, and the ways it
 * fails, which a test switches on:
 * - `switches.dbError = true`: every query fails and the app's bare error handler answers 500
 *   with the Sequelize error, the SQL it ran and the stack trace in the body (what the deleted
 *   sanitiser used to hide);
 * - a booking without passengers is a 400 with the field errors (a client's mistake, which the
 *   client needs to see).
 * Like any Express app it announces itself (`X-Powered-By: Express`). It reads the request id
 * the gateway sends (`X-Request-Id`) and puts it in its answers' `requestId`, as its log lines
 * would.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from './serve';

export interface AirlineSwitches {
  dbError: boolean;
}

export interface SeenAirlineRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

export interface AirlineBackend {
  readonly url: string;
  readonly switches: AirlineSwitches;
  readonly seen: SeenAirlineRequest[];
  close(): Promise<void>;
}

/** The SQL and stack a failing query leaks when nothing sanitises the error (bookings by id). */
export const LEAKED_SQL = 'SELECT * FROM "bookings" WHERE "id" = ';
export const LEAKED_STACK_FRAME =
  'at Query.formatError (/srv/airline/node_modules/sequelize/lib/dialects/postgres/query.js:386:16)';

const FLIGHTS = [
  { id: 'BW101', from: 'LHR', to: 'JFK', departs: '2026-12-01T09:30:00Z', seatsLeft: 12 },
  { id: 'BW202', from: 'JFK', to: 'LHR', departs: '2026-12-02T18:45:00Z', seatsLeft: 3 },
];

export async function startAirlineBackend(): Promise<AirlineBackend> {
  const switches: AirlineSwitches = { dbError: false };
  const seen: SeenAirlineRequest[] = [];
  const bookings = new Map<string, { id: string; flightId: string; passengers: string[] }>();
  const { url, close } = await serve((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call: Call = { req, res, body: Buffer.concat(chunks).toString(), switches, bookings };
      try {
        handle(call);
      } catch (err) {
        errorHandler(call, err as Error);
      }
    });
  });
  return {
    url,
    switches,
    seen,
    close,
  };
}

interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: string;
  readonly switches: AirlineSwitches;
  readonly bookings: Map<string, { id: string; flightId: string; passengers: string[] }>;
}

/** What Sequelize throws when a query fails: its message, the SQL, and a stack into node_modules. */
class SequelizeDatabaseError extends Error {
  readonly sql: string;
  constructor(table: string, id: string) {
    super(`relation "${table}" does not exist`);
    this.name = 'SequelizeDatabaseError';
    this.sql = `SELECT * FROM "${table}" WHERE "id" = '${id}';`;
    this.stack = `SequelizeDatabaseError: ${this.message}\n    ${LEAKED_STACK_FRAME}\n    at Query.run (/srv/airline/node_modules/sequelize/lib/dialects/postgres/query.js:76:18)`;
  }
}

function query<T>(call: Call, table: string, id: string, run: () => T): T {
  if (call.switches.dbError) throw new SequelizeDatabaseError(table, id);
  return run();
}

function handle(call: Call): void {
  const { req } = call;
  const { pathname: path, searchParams } = new URL(req.url!, 'http://airline');
  const method = req.method!;
  if (method === 'GET' && path === '/health') return send(call, 200, { status: 'ok' });
  if (method === 'GET' && path === '/api/flights') {
    const from = searchParams.get('from');
    return send(call, 200, {
      flights: query(call, 'flights', 'search', () => FLIGHTS.filter((f) => !from || f.from === from)),
    });
  }
  const flight = /^\/api\/flights\/(\w+)$/.exec(path);
  if (method === 'GET' && flight) {
    const found = query(call, 'flights', flight[1]!, () => FLIGHTS.find((f) => f.id === flight[1]));
    return found ? send(call, 200, { flight: found }) : send(call, 404, { error: 'Flight not found' });
  }
  if (method === 'POST' && path === '/api/bookings') return createBooking(call);
  const booking = /^\/api\/bookings\/([\w-]+)$/.exec(path);
  if (booking) return bookingById(call, method, booking[1]!);
  if (method === 'POST' && path === '/api/auth/login') return login(call);
  if (method === 'POST' && path === '/api/auth/register') return send(call, 201, { registered: true });
  send(call, 404, { error: 'Not found' });
}

function createBooking(call: Call): void {
  const input = parse(call.body) as { flightId?: unknown; passengers?: unknown };
  if (typeof input.flightId !== 'string' || !Array.isArray(input.passengers) || input.passengers.length === 0)
    return send(call, 400, {
      error: 'Validation failed',
      fields: { flightId: 'required', passengers: 'at least one passenger' },
    });
  const id = `bk_${call.bookings.size + 1}`;
  const created = { id, flightId: input.flightId, passengers: input.passengers as string[] };
  query(call, 'bookings', id, () => call.bookings.set(id, created));
  send(call, 201, { booking: created });
}

function bookingById(call: Call, method: string, id: string): void {
  const found = query(call, 'bookings', id, () => call.bookings.get(id));
  if (!found) return send(call, 404, { error: 'Booking not found' });
  if (method === 'GET') return send(call, 200, { booking: found });
  if (method === 'PUT') {
    const input = parse(call.body) as { passengers?: unknown };
    if (Array.isArray(input.passengers)) found.passengers = input.passengers as string[];
    return send(call, 200, { booking: found });
  }
  if (method === 'DELETE') {
    call.bookings.delete(id);
    return send(call, 204, undefined);
  }
  send(call, 405, { error: 'Method not allowed' });
}

function login(call: Call): void {
  const input = parse(call.body) as { email?: unknown; password?: unknown };
  const email = typeof input.email === 'string' ? input.email : '';
  const valid = query(call, 'users', email, () => input.password === 'correct horse');
  if (valid) return send(call, 200, { token: 'session-token' });
  send(call, 401, { error: 'Invalid credentials' });
}

function parse(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Express's error handler in development mode, which is what the app ran without its sanitiser. */
function errorHandler(call: Call, err: Error): void {
  send(call, 500, {
    error: `${err.name}: ${err.message}`,
    sql: (err as Partial<SequelizeDatabaseError>).sql,
    stack: err.stack,
  });
}

function send({ req, res }: Call, status: number, json: Record<string, unknown> | undefined): void {
  const headers: Record<string, string | number> = { 'x-powered-by': 'Express' };
  if (json === undefined) {
    res.writeHead(status, headers);
    return void res.end();
  }
  const requestId = req.headers['x-request-id'];
  const text = JSON.stringify({ ...json, requestId });
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(status, headers);
  res.end(text);
}

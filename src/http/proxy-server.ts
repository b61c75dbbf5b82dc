/**
 * @module http/proxy-server
 * The proxy listener: node:http with the configured limits, plus the answers for requests
 * that never reach the request handler (parse errors, oversize headers, slow clients) and
 * for `Expect: 100-continue` uploads that are too large before a byte of body is sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ServerLimits } from '../config/types';
import {
  BadRequestError,
  BodyTooLargeError,
  HeadersTooLargeError,
  RequestTimeoutError,
  type GatewayError,
} from '../errors';
import type { Logger } from '../observability/logger';
import type { RequestEvents } from '../observability/events';
import { rawErrorResponse, writeErrorReply } from './error-reply';
import { abandonExchange, type RequestHandler } from './request-handler';

/** How often Node looks for requests past headersTimeout/requestTimeout. */
const TIMEOUT_CHECK_MS = 500;

export function createProxyServer(
  handler: RequestHandler,
  limits: ServerLimits,
  events: RequestEvents,
  log: Logger,
): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks headersTimeout/requestTimeout only this often (30 s by default), so a
      // slowloris client got its 408 up to 30 s late; checking every second keeps them on time.
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      // Checked in the handler instead, so the answer is our JSON 400 like every other refusal.
      requireHostHeader: false,
      insecureHTTPParser: false,
    },
    handler.handle,
  );
  // Keep every header (past its default of 2,000 raw entries Node drops the rest yet frames the
  // body with them): the handler counts them and refuses more than maxHeaderCount with 431.
  server.maxHeadersCount = 0;
  server.on('upgrade', handler.handleUpgrade);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const length = Number(req.headers['content-length']);
    if (length > limits.maxBodyBytes) {
      // Refuse before the client sends the body it is waiting to send.
      events.requestRejected(413);
      writeErrorReply(res, new BodyTooLargeError(limits.maxBodyBytes), randomUUID(), true);
      return;
    }
    res.writeContinue();
    handler.handle(req, res);
  });
  // A reverse proxy opens no tunnels. Without a listener Node drops the socket without a word;
  // answer it like any other refused request instead.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    events.requestRejected(400);
    log.info({ reason: 'bad_request', status: 400, detail: 'CONNECT' }, 'request refused: CONNECT');
    answerClientError(socket, new BadRequestError('CONNECT is not supported'));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // The client reset or dropped its connection (between requests, typically): nothing to
    // answer, and not a malformed request to count.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return void socket.destroy();
    // Already answered (a 408 or 400 went out and the socket is ending): the parser's complaint
    // about the rest (HPE_INVALID_EOF_STATE) is not another request to count or log.
    if (!socket.writable) return void socket.destroy();
    const error = clientErrorOf(err);
    events.requestRejected(error.status);
    log.info(
      { reason: 'bad_request', status: error.status, detail: err.code },
      'request refused by the HTTP parser',
    );
    answerClientError(socket, error);
  });
  return server;
}

function clientErrorOf(err: NodeJS.ErrnoException): GatewayError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLargeError();
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutError();
    default:
      return new BadRequestError('Malformed request', err);
  }
}

/**
 * Writes the error unless a response has already started on this socket (writing then would
 * corrupt it; Node's own default handler takes the same care), then closes the connection.
 */
function answerClientError(socket: Socket, error: GatewayError): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && (!inFlight || !inFlight.headersSent)) {
    // A request whose body turned out malformed is answered here; its exchange must stop too.
    if (inFlight) abandonExchange(inFlight, error.status);
    socket.end(rawErrorResponse(error, randomUUID()));
  } else {
    socket.destroy();
  }
}

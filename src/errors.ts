/**
 * @module errors
 * Every failure the gateway turns into a response, as a typed error with its HTTP status and
 * public code. `http/error-reply.ts` is the only place that turns one into bytes on the wire.
 */

const BRAND = Symbol.for('breakwater.GatewayError');

/** Public codes, as in DESIGN.md's error table. */
export type ErrorCode =
  | 'NO_ROUTE'
  | 'RATE_LIMITED'
  | 'KEY_SHARED'
  | 'CIRCUIT_OPEN'
  | 'NO_HEALTHY_UPSTREAM'
  | 'OVERLOADED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'REQUEST_TIMEOUT'
  | 'INTERNAL';

/** The one-word reason on the access line (Envoy response flags in spirit). */
export type FailureKind =
  'connect_error' | 'reset' | 'timeout' | 'invalid_response' | 'circuit_open' | 'other';

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Whether a retry could succeed (connect failures, resets, timeouts). */
  retryable?: boolean;
  /** Seconds for Retry-After on 429/503. */
  retryAfterSeconds?: number;
  /** Extra public fields for the JSON body (e.g. tier). */
  details?: Readonly<Record<string, unknown>>;
}

let savedStackTraceLimit = Error.stackTraceLimit;

/**
 * Runs as super()'s argument, so the stack capture inside Error's constructor is skipped:
 * gateway errors are answers, not bugs, and capturing a stack costs ~7 µs, most of what an
 * open breaker spends refusing a request. `cause` keeps the underlying error's stack for logs.
 */
function withoutStack(message: string): string {
  savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return message;
}

/** Base class: `message` is public and must never hold an address, stack or upstream text. */
export class GatewayError extends Error {
  readonly [BRAND] = true;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(withoutStack(message), { cause: options.cause });
    Error.stackTraceLimit = savedStackTraceLimit;
    this.name = 'GatewayError';
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }
}

/** Brand check that survives duplicate module copies (cockatiel style). */
export function isGatewayError(err: unknown): err is GatewayError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

export class NoRouteError extends GatewayError {
  constructor() {
    super('NO_ROUTE', 404, 'No route matches this request');
  }
}

export class BadRequestError extends GatewayError {
  constructor(message = 'Malformed request', cause?: unknown) {
    super('BAD_REQUEST', 400, message, { cause });
  }
}

export class BodyTooLargeError extends GatewayError {
  constructor(limitBytes: number) {
    super('BODY_TOO_LARGE', 413, `Request body exceeds the limit of ${limitBytes} bytes`);
  }
}

export class HeadersTooLargeError extends GatewayError {
  constructor(message = 'Request headers are too large') {
    super('HEADERS_TOO_LARGE', 431, message);
  }
}

export class RequestTimeoutError extends GatewayError {
  constructor() {
    super('REQUEST_TIMEOUT', 408, 'The request was not received in time');
  }
}

/** The client went away before its response was complete (logged as 499, as nginx does). */
export class ClientGoneError extends GatewayError {
  constructor() {
    super('BAD_REQUEST', 499, 'Client closed the connection');
  }
}

/** Upstream could not be reached or answered with something that is not HTTP. */
export class UpstreamUnavailableError extends GatewayError {
  /** Whether any byte of the request reached the upstream (false: safe to retry any method). */
  readonly requestSent: boolean;

  constructor(
    readonly kind: FailureKind,
    options: { cause?: unknown; retryable?: boolean; requestSent?: boolean } = {},
  ) {
    super('UPSTREAM_UNAVAILABLE', 502, 'The upstream service is unavailable', {
      cause: options.cause,
      retryable: options.retryable ?? kind !== 'invalid_response',
    });
    this.requestSent = options.requestSent ?? kind !== 'connect_error';
  }
}

export class UpstreamTimeoutError extends GatewayError {
  constructor(
    readonly timeoutMs: number,
    options: { cause?: unknown; perTry?: boolean } = {},
  ) {
    super('UPSTREAM_TIMEOUT', 504, 'The upstream service did not answer in time', {
      cause: options.cause,
      retryable: true,
    });
    this.perTry = options.perTry ?? false;
  }

  /** true when the attempt's perTryTimeout passed, false when the route deadline did. */
  readonly perTry: boolean;
}

/** A rate limit is spent; `details` carries the consumer's tier (and upgrade hint) when there is one. */
export class RateLimitedError extends GatewayError {
  constructor(retryAfterSeconds: number, details?: Readonly<Record<string, unknown>>) {
    super('RATE_LIMITED', 429, 'Too many requests; slow down and retry later', {
      retryAfterSeconds,
      details,
    });
  }
}

export class CircuitOpenError extends GatewayError {
  constructor(retryAfterSeconds: number, cause?: unknown) {
    super('CIRCUIT_OPEN', 503, 'The upstream service is failing; requests are paused', {
      retryAfterSeconds,
      cause,
    });
  }
}

export class NoHealthyUpstreamError extends GatewayError {
  constructor() {
    super('NO_HEALTHY_UPSTREAM', 503, 'No healthy upstream target is available', { retryAfterSeconds: 1 });
  }
}

export class OverloadedError extends GatewayError {
  constructor(retryAfterSeconds = 1) {
    super('OVERLOADED', 503, 'The gateway is at capacity for this service', { retryAfterSeconds });
  }
}

/** One problem in a config file, positioned for `file:line:col: path: message`. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (e.g. a missing file). */
  readonly line: number;
  readonly col: number;
  /** Dotted path such as routes[2].retry.attempts ('' for the document). */
  readonly path: string;
  readonly message: string;
  /**
   * 'error' (the default): the config cannot be used. 'warning': it works but probably does not
   * do what was meant; `validate --strict` fails on it, start and reload only log it.
   */
  readonly severity?: 'error' | 'warning';
}

/** `file:line:col: path: message`, with `warning: ` before the message of a warning. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  const message = issue.severity === 'warning' ? `warning: ${issue.message}` : issue.message;
  return issue.path ? `${where}: ${issue.path}: ${message}` : `${where}: ${message}`;
}

/**
 * A config that cannot be used; carries every problem found, not just the first. `warnings` are
 * the lint findings of the same file, for `validate` to print after the errors.
 */
export class ConfigError extends Error {
  readonly code = 'BW_ERR_CONFIG';
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly warnings: readonly ConfigIssue[] = [],
  ) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** A listener that could not open at start: one line for the operator, never a stack trace. */
export class ListenError extends Error {
  readonly code = 'BW_ERR_LISTEN';
  constructor(role: 'proxy' | 'admin', address: { host: string; port: number }, cause: unknown) {
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    super(`cannot listen on ${host}:${address.port} (${role}): ${listenReason(cause)}`, { cause });
    this.name = 'ListenError';
  }
}

function listenReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

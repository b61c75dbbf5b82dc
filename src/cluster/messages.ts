/**
 * @module cluster/messages
 * What the cluster primary and its workers say to each other over IPC. The primary sends
 * control requests (an op of the worker's GatewayControl, or applyConfig with the config text
 * it validated) and each worker answers with a value or an error; a starting worker asks the
 * primary for the config text to run, so that every worker runs the text the primary last
 * accepted, even while the file on disk is broken.
 */

export const CONTROL_REQUEST = 'breakwater:control?';
export const CONTROL_RESPONSE = 'breakwater:control!';
export const CONFIG_REQUEST = 'breakwater:config?';
export const CONFIG_RESPONSE = 'breakwater:config!';

/** What a worker can be asked to do or report. */
export type WorkerOp =
  | 'health'
  | 'metrics'
  | 'stats'
  | 'routes'
  | 'resetBreaker'
  | 'openBreaker'
  | 'purgeCache'
  | 'cacheStats'
  | 'drainTarget'
  | 'undrainTarget'
  | 'applyConfig';

export interface ControlRequest {
  readonly type: typeof CONTROL_REQUEST;
  readonly id: number;
  readonly op: WorkerOp;
  /** String arguments; undefined (an absent ?route=) travels as null. */
  readonly args: ReadonlyArray<string | null>;
}

/** A refusal as it crosses IPC (a ControlError's fields). */
export interface WireError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export type ControlResponse =
  | {
      readonly type: typeof CONTROL_RESPONSE;
      readonly id: number;
      readonly ok: true;
      readonly value: unknown;
    }
  | {
      readonly type: typeof CONTROL_RESPONSE;
      readonly id: number;
      readonly ok: false;
      readonly error: WireError;
    };

export interface ConfigRequest {
  readonly type: typeof CONFIG_REQUEST;
}

export interface ConfigResponse {
  readonly type: typeof CONFIG_RESPONSE;
  readonly file: string;
  readonly text: string;
  /** The operator's standing actions, applied before the worker takes its first connection. */
  readonly standing: StandingActions;
}

/** Drains and forced-open breakers a new worker must honour: [upstream, url] / [upstream, route]. */
export interface StandingActions {
  readonly drains: ReadonlyArray<readonly [string, string]>;
  readonly forced: ReadonlyArray<readonly [string, string | null]>;
}

const typeOf = (message: unknown): unknown => (message as { type?: unknown } | null)?.type;

export const isControlRequest = (m: unknown): m is ControlRequest => typeOf(m) === CONTROL_REQUEST;
export const isControlResponse = (m: unknown): m is ControlResponse => typeOf(m) === CONTROL_RESPONSE;
export const isConfigRequest = (m: unknown): m is ConfigRequest => typeOf(m) === CONFIG_REQUEST;
export const isConfigResponse = (m: unknown): m is ConfigResponse => typeOf(m) === CONFIG_RESPONSE;

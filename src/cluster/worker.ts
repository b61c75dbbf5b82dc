/**
 * @module cluster/worker
 * A cluster worker: a full gateway on the shared proxy port, without an admin listener or a
 * file watcher. It starts from the config text the primary hands it, and answers the primary's
 * control requests with its own LocalControl (control/local.ts): reads (health, metrics as
 * prom-client JSON, raw stats, routes) and actions (breakers, cache, target drain), plus
 * applyConfig, the text of a reload the primary has validated.
 */
import { parseConfig } from '../config/load';
import { ControlError } from '../control/control';
import { ConfigError } from '../errors';
import type { Gateway } from '../gateway';
import { hashText } from '../control/reloader';
import {
  CONFIG_REQUEST,
  CONTROL_RESPONSE,
  isConfigResponse,
  isControlRequest,
  type ConfigResponse,
  type ControlRequest,
  type ControlResponse,
  type StandingActions,
  type WireError,
  type WorkerOp,
} from './messages';

/** The config text and file name the primary runs (asked once, at start). */
export function configFromPrimary(): Promise<ConfigResponse> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isConfigResponse(message)) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
    process.send?.({ type: CONFIG_REQUEST });
  });
}

type Args = ReadonlyArray<string | null>;
type Op = (gateway: Gateway, args: Args, worker: WorkerState) => Promise<unknown> | unknown;

/** What a worker remembers between requests: the config text it runs. */
interface WorkerState {
  file: string;
  env: NodeJS.ProcessEnv;
  textHash: string;
}

const opt = (value: string | null | undefined): string | undefined => value ?? undefined;

const OPS: Record<WorkerOp, Op> = {
  health: async (gw) => ({ report: await gw.control.health(), notReady: await gw.control.notReady() }),
  metrics: (gw) => gw.metrics.registry.getMetricsAsJSON(),
  stats: (gw) => ({ snapshot: gw.control.statsSnapshot(), routes: gw.control.routeNames() }),
  routes: (gw) => gw.control.routes(),
  resetBreaker: (gw, [upstream, route]) => gw.control.resetBreaker(upstream!, opt(route)),
  openBreaker: (gw, [upstream, route]) => gw.control.openBreaker(upstream!, opt(route)),
  purgeCache: (gw, [route]) => gw.control.purgeCache(opt(route)),
  cacheStats: (gw) => gw.control.cacheStats(),
  drainTarget: (gw, [upstream, url]) => gw.control.drainTarget(upstream!, url!),
  undrainTarget: (gw, [upstream, url]) => gw.control.undrainTarget(upstream!, url!),
  applyConfig: (gw, [text], state) => applyConfig(gw, text!, state),
};

/**
 * Applies the operator's drains and forced-open breakers; called right after the gateway starts,
 * in the same turn as its listening event, so no connection is served before them. A name the
 * config no longer has is skipped.
 */
export async function applyStanding(gateway: Gateway, standing: StandingActions): Promise<void> {
  const control = gateway.control;
  const calls = [
    ...standing.drains.map(([upstream, url]) => control.drainTarget(upstream, url)),
    ...standing.forced.map(([upstream, route]) => control.openBreaker(upstream, route ?? undefined)),
  ];
  await Promise.allSettled(calls);
}

/** Swaps in the text the primary validated (a worker that runs it already keeps its table). */
function applyConfig(gateway: Gateway, text: string, state: WorkerState): { version: string } {
  const hash = hashText(text);
  if (hash === state.textHash) return { version: gateway.table.version };
  const table = gateway.reload(parseConfig(text, state.file, state.env));
  state.textHash = hash;
  return { version: table.version };
}

/** Answers the primary's control requests for `gateway`, started from `text`. */
export function serveClusterWorker(
  gateway: Gateway,
  file: string,
  text: string,
  env: NodeJS.ProcessEnv,
): void {
  const state: WorkerState = { file, env, textHash: hashText(text) };
  process.on('message', (message: unknown) => {
    if (isControlRequest(message)) void answer(gateway, message, state);
  });
}

async function answer(gateway: Gateway, request: ControlRequest, state: WorkerState): Promise<void> {
  let response: ControlResponse;
  try {
    const value = await OPS[request.op](gateway, request.args, state);
    response = { type: CONTROL_RESPONSE, id: request.id, ok: true, value };
  } catch (err) {
    response = { type: CONTROL_RESPONSE, id: request.id, ok: false, error: wireError(err, gateway, request) };
  }
  // With a callback, a channel closed by a primary that is going away is not an uncaught error.
  process.send?.(response, undefined, undefined, () => undefined);
}

function wireError(err: unknown, gateway: Gateway, request: ControlRequest): WireError {
  if (err instanceof ControlError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof ConfigError) return { status: 422, code: 'CONFIG_INVALID', message: err.message };
  gateway.log.error({ err, op: request.op }, 'control request failed');
  return { status: 500, code: 'INTERNAL', message: 'The worker could not do that; see its log' };
}

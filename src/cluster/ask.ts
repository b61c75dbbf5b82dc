/**
 * @module cluster/ask
 * The primary's side of the control IPC: sends one op to workers and collects each one's
 * answer. A worker that does not answer in time (busy, dying) is left out of the answers, so
 * one stuck worker cannot hang the admin API.
 */
import cluster, { type Worker } from 'node:cluster';
import { CONTROL_REQUEST, isControlResponse, type ControlResponse, type WorkerOp } from './messages';

export const ASK_TIMEOUT_MS = 2000;
let nextId = 0;

/** Every worker that can be talked to. */
export function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w?.isConnected());
}

/** Sends `op` to each of `workers`; resolves with the answers that came within `timeoutMs`. */
export function askWorkers(
  op: WorkerOp,
  args: ReadonlyArray<string | undefined> = [],
  options: { timeoutMs?: number; workers?: Worker[] } = {},
): Promise<ControlResponse[]> {
  const workers = options.workers ?? liveWorkers();
  const timeoutMs = options.timeoutMs ?? ASK_TIMEOUT_MS;
  const wireArgs = args.map((a) => a ?? null);
  return Promise.all(workers.map((worker) => askOne(worker, op, wireArgs, timeoutMs))).then((answers) =>
    answers.filter((a): a is ControlResponse => a !== undefined),
  );
}

function askOne(
  worker: Worker,
  op: WorkerOp,
  args: ReadonlyArray<string | null>,
  timeoutMs: number,
): Promise<ControlResponse | undefined> {
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const onMessage = (message: unknown) => {
      if (isControlResponse(message) && message.id === id) finish(message);
    };
    const onExit = () => finish(undefined);
    function finish(value: ControlResponse | undefined) {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(value);
    }
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    try {
      worker.send({ type: CONTROL_REQUEST, id, op, args });
    } catch {
      finish(undefined);
    }
  });
}

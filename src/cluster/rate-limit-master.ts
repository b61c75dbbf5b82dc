/**
 * @module cluster/rate-limit-master
 * With `server.workers` > 1 and no Redis, rate limits are counted in the primary so they stay
 * exact however many workers share the port: each worker's RateLimiterCluster (see
 * `policies/rate-limit/counter.ts`) sends its counts here over the cluster IPC channel, and
 * the primary answers from one in-memory limiter per rule. Runs in the primary, before the
 * workers are forked.
 */
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';

let master: RateLimiterClusterMaster | undefined;

/**
 * Starts answering the workers' rate-limit messages. Idempotent. The limiters it holds live as
 * long as the primary, so counts survive worker restarts and reloads; a rule whose settings
 * change gets a new limiter (its settings are part of the limiter's key prefix).
 */
export function startRateLimitMaster(): void {
  master ??= new RateLimiterClusterMaster();
}

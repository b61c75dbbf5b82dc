/**
 * @module cluster/messages
 * What the cluster primary and its workers say to each other over IPC (besides prom-client's
 * own metrics messages): the primary answers /health for all workers by asking each one.
 */
import type { HealthReport } from '../admin/health';

export const HEALTH_REQUEST = 'breakwater:health?';
export const HEALTH_RESPONSE = 'breakwater:health!';

export interface HealthRequest {
  readonly type: typeof HEALTH_REQUEST;
  readonly id: number;
}

export interface HealthResponse {
  readonly type: typeof HEALTH_RESPONSE;
  readonly id: number;
  readonly report: HealthReport;
  readonly notReady: string[];
}

export function isHealthRequest(message: unknown): message is HealthRequest {
  return (message as HealthRequest | null)?.type === HEALTH_REQUEST;
}

export function isHealthResponse(message: unknown): message is HealthResponse {
  return (message as HealthResponse | null)?.type === HEALTH_RESPONSE;
}

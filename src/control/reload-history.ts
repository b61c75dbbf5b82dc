/**
 * @module control/reload-history
 * The latest config reloads (what the dashboard's "recent reloads" panel and the reload
 * endpoint's answer show): when, why, the result, the running version after it and, for a
 * refused file, its problems as `file:line:col: path: message`.
 */

/** What asked for a reload. */
export type ReloadTrigger = 'file' | 'signal' | 'admin';

export interface ReloadRecord {
  /** ISO time the reload finished. */
  readonly at: string;
  readonly trigger: ReloadTrigger;
  readonly result: 'success' | 'failure';
  /** The version running after the reload (unchanged after a failure). */
  readonly version: string;
  /** Whether the running version changed. */
  readonly changed: boolean;
  readonly durationMs: number;
  /** A refused file's problems, `file:line:col: path: message` each. */
  readonly issues: readonly string[];
  /** Settings that changed but only take effect after a restart (listen addresses, workers, redis). */
  readonly restartNeeded: readonly string[];
}

const KEEP = 20;

export class ReloadHistory {
  private readonly records: ReloadRecord[] = [];

  add(record: ReloadRecord): void {
    this.records.unshift(record);
    this.records.length = Math.min(this.records.length, KEEP);
  }

  /** Newest first. */
  list(): readonly ReloadRecord[] {
    return [...this.records];
  }
}

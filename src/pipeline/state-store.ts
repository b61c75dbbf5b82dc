/**
 * @module pipeline/state-store
 * State that must survive a config reload when its settings did not change (breakers, retry
 * budgets, bulkhead counters). A stage asks for it by a key that includes its settings; the
 * next build hands the same object back for the same key, and disposes of the keys nobody
 * asked for again.
 */

/** Anything kept may release timers or listeners when it is no longer used. */
export interface Disposable {
  dispose?(): void;
}

export class StateStore {
  private readonly entries = new Map<string, object & Disposable>();

  constructor(private readonly previous?: StateStore) {}

  /** The object for `key`: the previous build's when it had one, else `create()`. */
  keep<T extends object>(key: string, create: () => T): T {
    const existing = this.entries.get(key) ?? this.previous?.entries.get(key);
    const value = (existing as T | undefined) ?? create();
    this.entries.set(key, value);
    return value;
  }

  /** What this build keeps under keys starting with `prefix` (the admin API finds the cache store so). */
  values<T extends object = object>(prefix: string): T[] {
    const found: T[] = [];
    for (const [key, value] of this.entries) if (key.startsWith(prefix)) found.push(value as T);
    return found;
  }

  /** Disposes what the previous build had and this one did not take over; call after the swap. */
  retirePrevious(): void {
    if (!this.previous) return;
    for (const [key, value] of this.previous.entries) {
      if (this.entries.get(key) !== value) value.dispose?.();
    }
    this.previous.entries.clear();
  }

  /** Disposes everything (shutdown). */
  disposeAll(): void {
    for (const value of this.entries.values()) value.dispose?.();
    this.entries.clear();
  }
}

/**
 * @module control/watch
 * Watches the config file for hot reload. It watches the file's DIRECTORY (and the directory
 * its symlink resolves to), not the file: editors save by writing a new file and renaming it
 * over the old one, and Kubernetes updates a mounted ConfigMap by swapping the `..data` symlink
 * to a new timestamped directory, and a watch on the file itself would stay on the old inode
 * and never fire again. Any event in those directories, debounced (200 ms: editors write in
 * several steps), calls `onChange`; the reloader then compares the content hash, so events for
 * other files cost one read. A slow poll covers file systems without inotify (NFS, some bind
 * mounts). Runs in the single process or in the cluster primary, never in workers.
 */
import { watch, realpathSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../observability/logger';

export interface ConfigWatcher {
  close(): void;
}

export interface WatchOptions {
  readonly debounceMs?: number;
  /** Fallback poll interval; 0 turns it off. */
  readonly pollMs?: number;
}

const DEBOUNCE_MS = 200;
/** The longest a stream of events may hold a reload back. */
const MAX_WAIT_MS = 1000;
const POLL_MS = 5000;
const REWATCH_MS = 1000;

export function watchConfigFile(
  file: string,
  onChange: () => void,
  log: Logger,
  options: WatchOptions = {},
): ConfigWatcher {
  const path = resolve(file);
  const watchers = new Map<string, FSWatcher>();
  let debounce: NodeJS.Timeout | undefined;
  let rewatch: NodeJS.Timeout | undefined;
  let closed = false;

  let burstStartedAt = 0;
  const fire = () => {
    debounce = undefined;
    burstStartedAt = 0;
    refresh();
    onChange();
  };
  const changed = () => {
    if (closed) return;
    const now = Date.now();
    burstStartedAt ||= now;
    clearTimeout(debounce);
    // Debounced, but never past MAX_WAIT_MS from the first event of a burst: a busy neighbour
    // (a log file in the same directory) must not postpone the reload for ever.
    const waitMs = Math.min(
      options.debounceMs ?? DEBOUNCE_MS,
      Math.max(0, burstStartedAt + MAX_WAIT_MS - now),
    );
    debounce = setTimeout(fire, waitMs).unref();
  };
  const base = basename(path);
  /** Events for other files of the directory are noise; `..data` & co. are a ConfigMap swap. */
  const relevant = (_event: string, name: string | Buffer | null) => {
    const text = name === null ? null : String(name);
    if (text === null || text === base || text.startsWith('..') || text === realBase()) changed();
  };
  const realBase = () => {
    try {
      return basename(realpathSync(path));
    } catch {
      return base;
    }
  };
  /** Watches the file's directory and its real directory; drops directories no longer involved. */
  const refresh = () => {
    if (closed) return;
    const wanted = new Set([dirname(path), realDirOf(path)].filter((d): d is string => d !== undefined));
    for (const [dir, watcher] of watchers)
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    for (const dir of wanted) if (!watchers.has(dir)) startWatch(dir);
  };
  const startWatch = (dir: string) => {
    try {
      const watcher = watch(dir, { persistent: false }, relevant);
      watcher.on('error', (err) => lost(dir, err));
      watchers.set(dir, watcher);
    } catch (err) {
      lost(dir, err);
    }
  };
  /** A watched directory went away (a ConfigMap's old data directory): look again shortly. */
  const lost = (dir: string, err: unknown) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
    log.debug({ dir, err: (err as Error).message }, 'config watch lost; watching again');
    clearTimeout(rewatch);
    rewatch = setTimeout(() => {
      refresh();
      changed();
    }, REWATCH_MS).unref();
  };

  refresh();
  const pollMs = options.pollMs ?? POLL_MS;
  const poll = pollMs > 0 ? setInterval(changed, pollMs).unref() : undefined;
  return {
    close() {
      closed = true;
      clearTimeout(debounce);
      clearTimeout(rewatch);
      clearInterval(poll);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function realDirOf(path: string): string | undefined {
  try {
    return dirname(realpathSync(path));
  } catch {
    return undefined;
  }
}

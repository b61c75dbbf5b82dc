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
import { dirname, resolve } from 'node:path';
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

  const fire = () => {
    debounce = undefined;
    refresh();
    onChange();
  };
  const changed = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(fire, options.debounceMs ?? DEBOUNCE_MS).unref();
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
      const watcher = watch(dir, { persistent: false }, changed);
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

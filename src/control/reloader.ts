/**
 * @module control/reloader
 * Reload from file, shared by the file watcher, SIGHUP and `POST /admin/reload`: read the file
 * once, validate it, hand the config (and its text, which cluster workers parse themselves) to
 * `apply`, then log and count the result. An invalid file changes nothing and is logged at
 * error level with every `file:line:col` problem. Reloads run one at a time, in order.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseConfigWithWarnings } from '../config/load';
import type { GatewayConfig } from '../config/types';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../errors';
import type { Logger } from '../observability/logger';
import { ReloadHistory, type ReloadRecord, type ReloadTrigger } from './reload-history';

/** A config as read from its file. */
export interface LoadedConfig {
  readonly config: GatewayConfig;
  readonly text: string;
  /** sha256 of the text: the watcher reloads only when it changes. */
  readonly hash: string;
  /** Likely mistakes (config/lint.ts): logged, never a reason to refuse the file. */
  readonly warnings?: readonly ConfigIssue[];
}

/** One warn line per config warning, as `file:line:col: path: warning: message`. */
export function logConfigWarnings(log: Logger, warnings: readonly ConfigIssue[] = []): void {
  for (const warning of warnings) log.warn({ event: 'config_warning' }, formatConfigIssue(warning));
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads and validates `file`; env is read anew each time. @throws ConfigError */
export function readConfigFile(file: string, env: NodeJS.ProcessEnv): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const message = `cannot read the config file: ${code === 'ENOENT' ? 'no such file' : code}`;
    throw new ConfigError([{ file, line: 0, col: 0, path: '', message }]);
  }
  const { config, warnings } = parseConfigWithWarnings(text, file, env);
  return { config, text, hash: hashText(text), warnings };
}

export interface ReloaderOptions {
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The config running now (for the version and the restart-needed check). */
  readonly current: () => { config: GatewayConfig; version: string };
  /** Swaps `loaded` in; resolves with the version now running. */
  readonly apply: (loaded: LoadedConfig) => Promise<string>;
  /** Counts a reload (`config_reloads_total{result}`). */
  readonly count: (result: 'success' | 'failure') => void;
  /** Hash of the text the gateway started with. */
  readonly initialHash?: string;
}

/** Settings read once at start; a reload that changes them says a restart is needed. */
const RESTART_ONLY: ReadonlyArray<[string, (c: GatewayConfig) => unknown]> = [
  ['server.listen', (c) => c.server.listen],
  ['server.admin.listen', (c) => c.server.admin.listen],
  ['server.workers', (c) => c.server.workers],
  ['server.limits', (c) => c.server.limits],
  ['redis', (c) => c.redis],
];

export class ConfigReloader {
  readonly history = new ReloadHistory();
  private lastHash: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ReloaderOptions) {
    this.lastHash = options.initialHash;
  }

  get file(): string {
    return this.options.file;
  }

  /** Reloads whatever the file holds now (SIGHUP, admin): an unchanged file is a success too. */
  reload(trigger: ReloadTrigger): Promise<ReloadRecord> {
    return this.enqueue(() => this.run(trigger, false)) as Promise<ReloadRecord>;
  }

  /** Reloads when the file's content changed since the last attempt (the watcher). */
  reloadIfChanged(): Promise<ReloadRecord | undefined> {
    return this.enqueue(() => this.run('file', true));
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run(trigger: ReloadTrigger, onlyIfChanged: boolean): Promise<ReloadRecord | undefined> {
    const started = performance.now();
    const before = this.options.current();
    let loaded: LoadedConfig;
    try {
      loaded = readConfigFile(this.options.file, this.options.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const hash = this.hashOnDisk();
      if (onlyIfChanged && hash === this.lastHash) return undefined;
      this.lastHash = hash;
      return this.refused(trigger, started, before.version, err.issues.map(formatConfigIssue));
    }
    if (onlyIfChanged && loaded.hash === this.lastHash) return undefined;
    this.lastHash = loaded.hash;
    let version: string;
    try {
      version = await this.options.apply(loaded);
    } catch (err) {
      this.options.log.error({ err }, 'config could not be applied');
      const message = err instanceof Error ? err.message : String(err);
      return this.refused(trigger, started, before.version, [`${this.options.file}: ${message}`]);
    }
    logConfigWarnings(this.options.log, loaded.warnings);
    const restartNeeded = RESTART_ONLY.filter(
      ([, read]) => JSON.stringify(read(before.config)) !== JSON.stringify(read(loaded.config)),
    ).map(([name]) => name);
    return this.succeeded(trigger, started, before.version, version, loaded.config, restartNeeded);
  }

  private hashOnDisk(): string | undefined {
    try {
      return hashText(readFileSync(this.options.file, 'utf8'));
    } catch {
      return undefined;
    }
  }

  private succeeded(
    trigger: ReloadTrigger,
    started: number,
    previousVersion: string,
    version: string,
    config: GatewayConfig,
    restartNeeded: string[],
  ): ReloadRecord {
    const record = this.record(trigger, started, 'success', version, previousVersion, [], restartNeeded);
    this.options.count('success');
    const { log } = this.options;
    log.info(
      {
        event: 'reload',
        trigger,
        version,
        previousVersion,
        changed: record.changed,
        routes: config.routes.length,
        upstreams: Object.keys(config.upstreams).length,
        durationMs: record.durationMs,
      },
      'config reloaded',
    );
    if (restartNeeded.length > 0)
      log.warn({ event: 'reload', settings: restartNeeded }, 'config reloaded; some changes need a restart');
    return record;
  }

  private refused(trigger: ReloadTrigger, started: number, version: string, issues: string[]): ReloadRecord {
    const record = this.record(trigger, started, 'failure', version, version, issues, []);
    this.options.count('failure');
    this.options.log.error(
      { event: 'reload', trigger, file: this.options.file, version, issues },
      'config refused; keeping the running config',
    );
    return record;
  }

  private record(
    trigger: ReloadTrigger,
    started: number,
    result: ReloadRecord['result'],
    version: string,
    previousVersion: string,
    issues: string[],
    restartNeeded: string[],
  ): ReloadRecord {
    const record: ReloadRecord = {
      at: new Date().toISOString(),
      trigger,
      result,
      version,
      changed: version !== previousVersion,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      issues,
      restartNeeded,
    };
    this.history.add(record);
    return record;
  }
}

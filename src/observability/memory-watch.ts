/**
 * @module observability/memory-watch
 * Beside the pipeline, not in it: every `server.memoryCheckInterval` (5 s) the process samples
 * how close it is to running out of memory and publishes `breakwater_memory_usage_ratio`:
 * the larger of heapUsed / V8's heap limit (`--max-old-space-size`) and rss / the cgroup
 * memory limit (v2 `memory.max`, or v1 `memory.limit_in_bytes`, when it holds a real number:
 * a container's limit, past which the kernel kills the process). Crossing `server.memoryWarning`
 * (0.9) writes one `warn` line, "memory usage high"; falling back below the threshold minus
 * 0.05 writes one `info` line, "memory usage back to normal" (the gap keeps a ratio hovering
 * around the threshold from writing a line per sample). `memoryWarning: false` keeps the gauge
 * and drops the lines. The timer is unref'd (it never keeps the process alive) and stopped at
 * drain. Each process watches itself: with `workers` > 1, every worker (tagged by its id).
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from './logger';

/** How far below the threshold the ratio must fall before the all-clear (no flapping). */
export const HYSTERESIS = 0.05;

/** cgroup v2, then v1: the first that exists decides. */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
/** cgroup v1 writes "no limit" as a number near 2^63; anything this large is no limit. */
const NO_LIMIT_BYTES = 2 ** 60;

export interface MemorySample {
  readonly heapUsed: number;
  readonly heapLimit: number;
  readonly rss: number;
  /** The cgroup memory limit in bytes; null when there is none. */
  readonly limit: number | null;
  /** max(heapUsed / heapLimit, rss / limit). */
  readonly ratio: number;
  /** Which of the two gave the ratio. */
  readonly source: 'heap' | 'cgroup';
}

export interface MemoryWatchSettings {
  /** Warn at this ratio; undefined = no lines (the gauge stays). */
  readonly thresholdRatio: number | undefined;
  readonly intervalMs: number;
}

/** The cgroup memory limit of this process in bytes, or undefined when it has none. */
export function cgroupLimitBytes(read: (file: string) => string = readText): number | undefined {
  for (const file of CGROUP_LIMIT_FILES) {
    let text: string;
    try {
      text = read(file).trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    // "max" (v2) and v1's huge "unlimited" are no limit.
    return Number.isSafeInteger(bytes) && bytes > 0 && bytes < NO_LIMIT_BYTES ? bytes : undefined;
  }
  return undefined;
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** One sample of this process. */
export function readMemory(): MemorySample {
  const { heapUsed, rss } = process.memoryUsage();
  return memorySample(heapUsed, getHeapStatistics().heap_size_limit, rss, cgroupLimitBytes());
}

export function memorySample(
  heapUsed: number,
  heapLimit: number,
  rss: number,
  limit: number | undefined,
): MemorySample {
  const heapRatio = heapLimit > 0 ? heapUsed / heapLimit : 0;
  const rssRatio = limit === undefined ? 0 : rss / limit;
  const cgroup = rssRatio > heapRatio;
  return {
    heapUsed,
    heapLimit,
    rss,
    limit: limit ?? null,
    ratio: round(cgroup ? rssRatio : heapRatio),
    source: cgroup ? 'cgroup' : 'heap',
  };
}

const round = (ratio: number) => Math.round(ratio * 10_000) / 10_000;

/** Samples on a timer, publishes the ratio and logs each crossing of the threshold. */
export class MemoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;
  private thresholdRatio: number | undefined;
  /** Whether the last line said "high" (the state the next crossing changes). */
  private high = false;

  constructor(
    private readonly log: Logger,
    /** Publishes each sample's ratio (the gauge). */
    private readonly report: (ratio: number) => void,
    private readonly read: () => MemorySample = readMemory,
  ) {}

  /** Applies `settings` (at start and on each reload): samples now, restarts the timer if its interval changed. */
  configure(settings: MemoryWatchSettings): void {
    this.thresholdRatio = settings.thresholdRatio;
    if (this.thresholdRatio === undefined) this.high = false;
    if (this.timer === undefined || settings.intervalMs !== this.intervalMs) {
      this.stop();
      this.intervalMs = settings.intervalMs;
      this.timer = setInterval(() => this.sample(), settings.intervalMs).unref();
    }
    this.sample();
  }

  /** Takes one sample now; returns it. */
  sample(): MemorySample {
    const sample = this.read();
    this.report(sample.ratio);
    const threshold = this.thresholdRatio;
    if (threshold === undefined) return sample;
    if (!this.high && sample.ratio >= threshold) {
      this.high = true;
      this.log.warn({ event: 'memory', ...sample, threshold }, 'memory usage high');
    } else if (this.high && sample.ratio < threshold - HYSTERESIS) {
      this.high = false;
      this.log.info({ event: 'memory', ...sample, threshold }, 'memory usage back to normal');
    }
    return sample;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

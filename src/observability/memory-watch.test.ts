import type { Logger } from './logger';
import { cgroupLimitBytes, memorySample, MemoryWatch, type MemorySample } from './memory-watch';

const MB = 1024 * 1024;

/** A logger that keeps [level, msg] pairs. */
function recordingLog(): { log: Logger; lines: Array<[string, string, Record<string, unknown>]> } {
  const lines: Array<[string, string, Record<string, unknown>]> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    void lines.push([level, msg, fields]);
  return { log: { warn: at('warn'), info: at('info') } as unknown as Logger, lines };
}

/** A watch whose samples come from `ratios`, one per sample() call. */
function scripted(ratios: number[], threshold: number | undefined) {
  const { log, lines } = recordingLog();
  const reported: number[] = [];
  let i = 0;
  const watch = new MemoryWatch(
    log,
    (r) => reported.push(r),
    (): MemorySample => memorySample(ratios[i++]! * 100 * MB, 100 * MB, 50 * MB, undefined),
  );
  // A long interval: the test drives the samples itself.
  watch.configure({ thresholdRatio: threshold, intervalMs: 3_600_000 });
  for (let n = 1; n < ratios.length; n++) watch.sample();
  watch.stop();
  return { lines, reported };
}

describe('MemoryWatch', () => {
  it('warns once when the ratio crosses the threshold and once when it is back below threshold - 0.05', () => {
    const { lines, reported } = scripted([0.5, 0.91, 0.95, 0.88, 0.9, 0.86, 0.84, 0.92], 0.9);
    expect(reported).toEqual([0.5, 0.91, 0.95, 0.88, 0.9, 0.86, 0.84, 0.92]);
    expect(lines.map(([level, msg, f]) => [level, msg, f.ratio])).toEqual([
      ['warn', 'memory usage high', 0.91],
      ['info', 'memory usage back to normal', 0.84],
      ['warn', 'memory usage high', 0.92],
    ]);
    expect(lines[0]![2]).toMatchObject({
      event: 'memory',
      heapUsed: 0.91 * 100 * MB,
      heapLimit: 100 * MB,
      rss: 50 * MB,
      limit: null,
      threshold: 0.9,
      source: 'heap',
    });
  });

  it('keeps the gauge and writes no line with memoryWarning: false', () => {
    const { lines, reported } = scripted([0.99, 1, 0.2], undefined);
    expect(reported).toEqual([0.99, 1, 0.2]);
    expect(lines).toEqual([]);
  });

  it('takes the larger of the heap and the cgroup ratio', () => {
    expect(memorySample(10 * MB, 100 * MB, 300 * MB, 400 * MB)).toEqual({
      heapUsed: 10 * MB,
      heapLimit: 100 * MB,
      rss: 300 * MB,
      limit: 400 * MB,
      ratio: 0.75,
      source: 'cgroup',
    });
    expect(memorySample(80 * MB, 100 * MB, 300 * MB, 4000 * MB)).toMatchObject({
      ratio: 0.8,
      source: 'heap',
    });
  });
});

describe('cgroupLimitBytes', () => {
  const files = (map: Record<string, string>) => (file: string) => {
    const text = map[file];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  };

  it.each([
    ['v2 limit', { '/sys/fs/cgroup/memory.max': '536870912\n' }, 536870912],
    ['v2 no limit', { '/sys/fs/cgroup/memory.max': 'max\n' }, undefined],
    ['v1 limit', { '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456\n' }, 268435456],
    ['v1 no limit', { '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' }, undefined],
    ['no cgroup files', {}, undefined],
  ])('%s', (_what, map, expected) => {
    expect(cgroupLimitBytes(files(map))).toBe(expected);
  });
});

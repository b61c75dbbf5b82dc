import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSink } from './line-sink';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'bw-sink-')), 'log');

describe('LineSink', () => {
  it('writes every line, in order, by the exit flush at the latest', () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd);
    for (let i = 0; i < 5000; i++) sink.write(`{"n":${i}}\n`);
    sink.flushSync();
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([...Array(5000).keys()]);
    expect(sink.dropped).toBe(0);
  });

  it('gets a quiet line out within a second without any flush call', async () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd);
    sink.write('{"quiet":true}\n');
    const deadline = Date.now() + 3000;
    while (readFileSync(file, 'utf8') === '' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(file, 'utf8')).toBe('{"quiet":true}\n');
    sink.flushSync();
    closeSync(fd);
  });

  it('drops and counts lines once the descriptor is gone, and never throws or hangs', async () => {
    const fd = openSync(tempFile(), 'w');
    closeSync(fd);
    const sink = new LineSink(fd);
    for (let i = 0; i < 10; i++) sink.write('{"lost":true}\n');
    sink.flush();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) sink.write('{"after":true}\n');
    sink.flushSync();
    expect(sink.dropped).toBe(15);
  });
});

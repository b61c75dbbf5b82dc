import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSink } from './line-sink';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'bw-sink-')), 'log');

describe('LineSink', () => {
  it('writes every line, in order, by the end of a clean exit', async () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd);
    for (let i = 0; i < 5000; i++) sink.write(`{"n":${i}}\n`);
    await sink.end();
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([...Array(5000).keys()]);
    expect(sink.dropped).toBe(0);
  });

  it('ends cleanly with a write in flight: every line once, in order', async () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd);
    for (let i = 0; i < 3000; i++) sink.write(`{"n":${i}}\n`);
    sink.flush(); // a batch goes to the thread pool…
    for (let i = 3000; i < 6000; i++) sink.write(`{"n":${i}}\n`);
    await sink.end(); // …and the rest follows it, never written twice
    closeSync(fd);
    const numbers = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers).toEqual([...Array(6000).keys()]);
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

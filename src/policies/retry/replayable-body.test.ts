import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { bufferableLength, readReplayableBody } from './replayable-body';

function request(headers: Record<string, string>): IncomingMessage & PassThrough {
  return Object.assign(new PassThrough(), { headers }) as unknown as IncomingMessage & PassThrough;
}

describe('bufferableLength', () => {
  it.each<[Record<string, string>, number | undefined]>([
    [{ 'content-length': '10' }, 10],
    [{ 'content-length': '1024' }, 1024],
    [{ 'content-length': '1025' }, undefined],
    [{ 'transfer-encoding': 'chunked' }, undefined],
    [{}, undefined],
    [{ 'content-length': 'ten' }, undefined],
  ])('%j with a 1 KiB limit → %j', (headers, expected) => {
    expect(bufferableLength(request(headers), 1024)).toBe(expected);
  });
});

describe('readReplayableBody', () => {
  it('collects chunks into one buffer of the declared size', async () => {
    const req = request({});
    const pending = readReplayableBody(req, 6, performance.now() + 1000);
    req.write('abc');
    setTimeout(() => req.end('def'), 5);
    expect((await pending).toString()).toBe('abcdef');
    expect(req.listenerCount('data')).toBe(0);
  });

  it('rejects with 408 when the body is not in by the deadline', async () => {
    const req = request({});
    const started = performance.now();
    const pending = readReplayableBody(req, 6, started + 50);
    req.write('abc');
    await expect(pending).rejects.toMatchObject({ status: 408 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('rejects with 499 when the client leaves mid-body', async () => {
    const req = request({});
    const pending = readReplayableBody(req, 6, performance.now() + 1000);
    req.write('abc');
    setTimeout(() => req.destroy(), 5);
    await expect(pending).rejects.toMatchObject({ status: 499 });
  });

  it('rejects with 499 when the body ends short of its Content-Length', async () => {
    const req = request({});
    const pending = readReplayableBody(req, 6, performance.now() + 1000);
    req.end('abc');
    await expect(pending).rejects.toMatchObject({ status: 499 });
  });
});
